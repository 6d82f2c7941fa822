package metrics

import (
	"fmt"
	"runtime"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
)

const namespace = "joinhintd"

// Reasons a refresh can fail, the values of joinhintd_refresh_failures_total's
// reason label. New exports each at zero, so an alert on their rate sees the
// series before the first failure.
const (
	ReasonThrottled = "throttled" // the ECS API throttled the caller
	ReasonAuth      = "auth"      // missing or rejected credentials or permission
	ReasonServer    = "server"    // the ECS API answered with a server error
	ReasonNetwork   = "network"   // transport failure: DNS, connect, TLS, timeout
	ReasonOther     = "other"     // anything else, and any reason not listed here
)

// FailureReasons lists every value of the reason label, in a stable order.
func FailureReasons() []string {
	return []string{ReasonThrottled, ReasonAuth, ReasonServer, ReasonNetwork, ReasonOther}
}

// BuildInfo is exported as the labels of joinhintd_build_info.
type BuildInfo struct {
	Version   string // release version; "unknown" when empty
	Revision  string // VCS revision; "unknown" when empty
	GoVersion string // Go toolchain; runtime.Version() when empty
}

// Metrics records joinhintd's metrics.
//
// Its methods are safe for concurrent use by multiple goroutines, and safe to
// call on a nil *Metrics, where they do nothing.
type Metrics struct {
	ecsRequests        *prometheus.CounterVec
	ecsRequestDuration *prometheus.HistogramVec
	refreshDuration    prometheus.Histogram
	refreshFailures    *prometheus.CounterVec
	lastRefreshSuccess prometheus.Gauge
	peers              prometheus.Gauge
	peerSetChanges     prometheus.Counter
	tagQueryCapped     prometheus.Counter
}

// apiBuckets returns the bucket bounds, in seconds, for one ECS API call: a
// healthy regional endpoint answers in tens of milliseconds, the top buckets
// catch calls that run into the SDK's connect and read timeouts.
func apiBuckets() []float64 {
	return []float64{0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30}
}

// refreshBuckets returns the bucket bounds, in seconds, for one whole refresh:
// several pages of DescribeInstances plus in-refresh retries, so it reaches
// further than a single call.
func refreshBuckets() []float64 {
	return []float64{0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120}
}

// New builds the metric set and registers it on reg, together with the Go
// runtime and process collectors and joinhintd_build_info (always 1, the build
// in its labels). It fails if any of them is already registered on reg.
func New(reg prometheus.Registerer, bi BuildInfo) (*Metrics, error) {
	m := &Metrics{
		ecsRequests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: namespace,
			Name:      "ecs_requests_total",
			Help:      "ECS API calls made, by API action and result code: Success, the ECS error code (e.g. Throttling.User), transport (no HTTP answer) or decode (unreadable answer).",
		}, []string{"action", "code"}),
		ecsRequestDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Namespace: namespace,
			Name:      "ecs_request_duration_seconds",
			Help:      "Time taken by one ECS API call, successful or not, including the SDK's network time, by API action.",
			Buckets:   apiBuckets(),
		}, []string{"action"}),
		refreshDuration: prometheus.NewHistogram(prometheus.HistogramOpts{
			Namespace: namespace,
			Name:      "refresh_duration_seconds",
			Help:      "Time taken by one peer-set refresh (all DescribeInstances pages), successful or not.",
			Buckets:   refreshBuckets(),
		}),
		refreshFailures: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: namespace,
			Name:      "refresh_failures_total",
			Help:      "Peer-set refreshes that failed and kept the previous peer set, by reason: throttled, auth, server, network or other.",
		}, []string{"reason"}),
		lastRefreshSuccess: prometheus.NewGauge(prometheus.GaugeOpts{
			Namespace: namespace,
			Name:      "last_refresh_success_timestamp_seconds",
			Help:      "Unix time of the last successful peer-set refresh; 0 until the first one. Alert on time() minus this.",
		}),
		peers: prometheus.NewGauge(prometheus.GaugeOpts{
			Namespace: namespace,
			Name:      "peers",
			Help:      "Peers (instances, this node included) in the current peer set, as of the last successful refresh.",
		}),
		peerSetChanges: prometheus.NewCounter(prometheus.CounterOpts{
			Namespace: namespace,
			Name:      "peer_set_changes_total",
			Help:      "Successful refreshes whose peer set differed from the previous one (instances added, removed or readdressed).",
		}),
		tagQueryCapped: prometheus.NewCounter(prometheus.CounterOpts{
			Namespace: namespace,
			Name:      "tag_query_capped_total",
			Help:      "Refreshes whose tag-filtered DescribeInstances reached the API's 1,000-instance cap, so peers beyond it may be missing: tighten the filters (--vpc-id, --zone-id, more tags).",
		}),
	}
	// Export every reason at zero so increase() and absent-free alerts work
	// before the first failure.
	for _, r := range FailureReasons() {
		m.refreshFailures.WithLabelValues(r)
	}

	buildInfo := prometheus.NewGauge(prometheus.GaugeOpts{
		Namespace:   namespace,
		Name:        "build_info",
		Help:        "Always 1; the labels tell the joinhintd version, VCS revision and Go version of this build.",
		ConstLabels: buildLabels(bi),
	})
	buildInfo.Set(1)

	for _, c := range []prometheus.Collector{
		m.ecsRequests,
		m.ecsRequestDuration,
		m.refreshDuration,
		m.refreshFailures,
		m.lastRefreshSuccess,
		m.peers,
		m.peerSetChanges,
		m.tagQueryCapped,
		buildInfo,
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
	} {
		if err := reg.Register(c); err != nil {
			return nil, fmt.Errorf("register metrics: %w", err)
		}
	}
	return m, nil
}

func buildLabels(bi BuildInfo) prometheus.Labels {
	orDefault := func(s, def string) string {
		if s == "" {
			return def
		}
		return s
	}
	return prometheus.Labels{
		"version":   orDefault(bi.Version, "unknown"),
		"revision":  orDefault(bi.Revision, "unknown"),
		"goversion": orDefault(bi.GoVersion, runtime.Version()),
	}
}
