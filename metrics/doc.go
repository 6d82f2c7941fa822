// Package metrics defines joinhintd's Prometheus metric set.
//
// Every metric lives on the prometheus.Registerer handed to New: the package
// keeps no global registry and no package state, so a test builds a fresh
// registry and main builds the program's own. The names, types and labels are
// part of the product's contract (docs/design.md, "Metrics"); change them only
// together with that page.
//
// The metrics package knows nothing about ECS or the refresh loop; callers
// report what happened through the methods of *Metrics. A nil *Metrics is a
// valid, silent recorder, so code that does not care about metrics (tests,
// one-shot commands) passes nil instead of building a registry.
package metrics
