// Package audit provides [keys.Auditor]s: [Slog] writes every event to a
// log/slog logger, [Memory] keeps the latest events in memory and lists
// them, and [Tee] sends events to several auditors. A SQL-backed auditor
// that also lists events is in keys/sqlstore.
package audit
