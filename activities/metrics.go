package activities

import (
	"strconv"
	"time"

	"go.temporal.io/sdk/client"
)

// Option configures New.
type Option func(*options)

type options struct {
	metrics client.MetricsHandler
}

// WithMetrics records every HTTP call to a Oneserve system into h (the
// process's metrics handler, shared with the Temporal client):
//
//   - o2o_target_requests, a counter tagged system, op (the client call:
//     createJob, job, site, ...) and status_class (2xx, 3xx, 4xx, 5xx, or
//     error when no answer came);
//   - o2o_target_latency, a timer tagged system and op.
//
// With sdktally's Prometheus naming they are exposed as
// o2o_target_requests_total and o2o_target_latency_seconds.
func WithMetrics(h client.MetricsHandler) Option {
	return func(o *options) { o.metrics = h }
}

// observer returns the Oneserve client's Observer for one system, or nil
// without metrics.
func (o options) observer(system string) func(op string, status int, d time.Duration, err error) {
	if o.metrics == nil {
		return nil
	}
	h := o.metrics.WithTags(map[string]string{"system": system})
	return func(op string, status int, d time.Duration, _ error) {
		oh := h.WithTags(map[string]string{"op": op})
		oh.WithTags(map[string]string{"status_class": statusClass(status)}).Counter("o2o_target_requests").Inc(1)
		oh.Timer("o2o_target_latency").Record(d)
	}
}

// statusClass buckets an HTTP status for a label: "2xx" ... "5xx", or
// "error" when there was no answer (status 0).
func statusClass(status int) string {
	if status < 100 || status > 599 {
		return "error"
	}
	return strconv.Itoa(status/100) + "xx"
}
