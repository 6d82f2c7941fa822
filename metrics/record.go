package metrics

import (
	"slices"
	"time"
)

// ObserveAPIRequest records one ECS API call: action is the API action (e.g.
// DescribeInstances), code its result (Success, the ECS error code, transport
// or decode) and d how long it took.
func (m *Metrics) ObserveAPIRequest(action, code string, d time.Duration) {
	if m == nil {
		return
	}
	m.ecsRequests.WithLabelValues(action, code).Inc()
	m.ecsRequestDuration.WithLabelValues(action).Observe(d.Seconds())
}

// ObserveRefresh records how long one refresh took, whatever its outcome.
func (m *Metrics) ObserveRefresh(d time.Duration) {
	if m == nil {
		return
	}
	m.refreshDuration.Observe(d.Seconds())
}

// RefreshFailed counts a failed refresh. reason should be one of
// FailureReasons; any other value is counted as ReasonOther, which keeps the
// label's values the five that alerts are written against.
func (m *Metrics) RefreshFailed(reason string) {
	if m == nil {
		return
	}
	if !slices.Contains(FailureReasons(), reason) {
		reason = ReasonOther
	}
	m.refreshFailures.WithLabelValues(reason).Inc()
}

// RefreshSucceeded records a successful refresh finished at at, which found
// peers peers; changed reports whether the peer set differs from the previous
// one, and only then is joinhintd_peer_set_changes_total incremented.
func (m *Metrics) RefreshSucceeded(at time.Time, peers int, changed bool) {
	if m == nil {
		return
	}
	m.lastRefreshSuccess.Set(float64(at.UnixNano()) / 1e9)
	m.peers.Set(float64(peers))
	if changed {
		m.peerSetChanges.Inc()
	}
}

// TagQueryCapped counts a refresh whose tag query reached the API's cap.
func (m *Metrics) TagQueryCapped() {
	if m == nil {
		return
	}
	m.tagQueryCapped.Inc()
}
