// Package notify tells the owners of API keys what they should know about
// them: a key expires soon (7, 3 and 1 days before, by default), has
// expired, has not been used for a while, or was revoked or disabled by
// someone other than its owner (an admin, an operator, a secret scanner's
// report, the staleness policy). It also runs the optional staleness
// policy: keys unused for a given time are disabled, as
// audit.System("staleness"), and their owners may enable them again.
//
// A [Scheduler] finds the notices that are due in a [Store] (keys/sqlstore
// and keys/memstore are Stores), claims each, hands it to the app's
// [Notifier] (an email, a chat message, a log line) and records it as sent:
// each notice is sent once, also with several instances running a
// Scheduler over one database. Nothing runs behind the app's back: the app
// starts the Scheduler (go sched.Run(ctx)), or calls [Scheduler.RunOnce]
// from a cron job or a test. The request path never waits for a notice.
package notify
