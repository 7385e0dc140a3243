// Package audit says who did what to which key: the [Actor] of a change,
// the events ([Event]) a keys.Manager hands to an [Auditor], and the
// verifications ([Verification]) it shows an [Observer] (for metrics and
// tracing).
//
// Auditors provided here: [Slog] writes every event to a log/slog logger,
// [Memory] keeps the latest events in memory and lists them (a [Log]), and
// [Tee] sends events to several auditors. A SQL-backed [Log] is in
// keys/sqlstore; a Prometheus observer in audit/promaudit.
package audit
