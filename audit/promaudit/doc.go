// Package promaudit exposes keycap's verifications and key events as
// Prometheus metrics. It is a package of its own so that importing keycap
// never pulls in the Prometheus client.
//
// A [Metrics] is both an [audit.Observer], which sees every verification,
// and an [audit.Auditor], which sees every key change, refusal and denied
// verification. Give it to the keys.Manager as both:
//
//	m, err := promaudit.New(prometheus.DefaultRegisterer, promaudit.Options{})
//	if err != nil {
//		return err
//	}
//	mgr, err := keys.NewManager(keys.Config{
//		// Store, Policy, Subjects, Secret...
//		Observer: m,
//		Auditor:  audit.Tee(sqlAuditor, m),
//	})
//
// and serve the registry, for instance with promhttp.Handler on an
// address of its own, not the app's public one. The metrics, under the
// namespace "keycap" unless [Options].Namespace says otherwise:
//
//	keycap_verifications_total{outcome}                counter
//	keycap_verification_duration_seconds{result}       histogram
//	keycap_key_events_total{type}                      counter
//
// outcome is one of the fixed labels of [audit.Verification].Outcome
// ("accepted", "malformed", "unknown", "wrong_secret", "revoked",
// "disabled", "expired", "owner_gone", "parent_invalid", "ip_not_allowed",
// "unavailable", "error"); result is "accepted", "refused" (the key was refused) or
// "error" (the store was unavailable or another error stopped the
// verification); type is an [audit.Type] ("created", "updated", ...,
// "verification_denied") or "other". Every series exists from the start,
// at zero, so that rates and alerts work before the first event.
//
// # No key ids, no owner ids
//
// No metric is labelled by key id or owner id, and no option adds them:
// every key and every owner would be a new series, kept for the life of
// the process and of the Prometheus server (unbounded cardinality), and
// the ids in refused verifications come from clients, who can forge as
// many as they like. Per-key activity belongs in the audit log (an
// [audit.Log]) and the key's last-used record. The key itself never
// reaches a metric: neither [audit.Verification] nor [audit.Event] holds
// it.
//
// To tell apart two Managers in one registry, wrap the registerer:
// prometheus.WrapRegistererWith(prometheus.Labels{"manager": "public"}, reg).
package promaudit
