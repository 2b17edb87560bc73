package server

import (
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/latchkey/latchkey/impl/envelope"
)

// MetricsPath serves Options.Metrics in the Prometheus text format. Like
// /docs it is outside the contract: never validated, no authentication.
const MetricsPath = "/metrics"

// RouteUnmatched is the route label of requests that matched no route (404,
// and 405 for a known path with another method): the raw path may hold ids
// or anything a caller typed, so it never becomes a label.
const RouteUnmatched = "unmatched"

// durationBuckets span a token-checked read (well under a millisecond) to
// password hashing under load (seconds).
var durationBuckets = []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10}

// Label values of methods: the standard ones, anything else is "other" (a
// method is the caller's input on an unmatched request).
var methodNames = [...]string{"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "CONNECT", "TRACE", "other"}

const numMethods = len(methodNames)

func methodIndex(m string) int {
	switch m {
	case http.MethodGet:
		return 0
	case http.MethodHead:
		return 1
	case http.MethodPost:
		return 2
	case http.MethodPut:
		return 3
	case http.MethodPatch:
		return 4
	case http.MethodDelete:
		return 5
	case http.MethodOptions:
		return 6
	case http.MethodConnect:
		return 7
	case http.MethodTrace:
		return 8
	}
	return numMethods - 1
}

const numFamilies = int(envelope.CIAM) + 1

func familyIndex(f envelope.Family) int {
	if f < 0 || int(f) >= numFamilies {
		return int(envelope.None)
	}
	return int(f)
}

// Status codes whose counters a route caches (slot index); others go
// through the vector's own lookup, which is slower but correct.
var cachedStatuses = [...]int{200, 201, 202, 204, 301, 302, 304, 400, 401, 403, 404, 405, 406, 409, 413, 415, 422, 429, 500, 501, 502, 503, 504}

var statusSlot = func() (t [600]int8) {
	for i := range t {
		t[i] = -1
	}
	for i, code := range cachedStatuses {
		t[code] = int8(i)
	}
	return t
}()

var statusText = func() (t [len(cachedStatuses)]string) {
	for i, code := range cachedStatuses {
		t[i] = strconv.Itoa(code)
	}
	return t
}()

// httpMetrics instruments every request. Its hot path takes no lock and
// allocates nothing: the labels of each route are fixed when the server is
// built, and each label child (histogram per route, counter per route and
// status) is resolved once and then kept in the route's slot.
type httpMetrics struct {
	requests *prometheus.CounterVec   // method, route, status, family
	duration *prometheus.HistogramVec // method, route, family
	inFlight prometheus.Gauge

	// routes is written once by prepare (before the engine serves) and only
	// read afterwards: gin route template -> slots per method.
	routes    map[string]*[numMethods]*routeMetrics
	unmatched [numMethods][numFamilies]*routeMetrics
	handler   http.Handler
}

// routeMetrics holds the label values and the resolved children of one
// method and route template (or of unmatched requests of one method and
// family).
type routeMetrics struct {
	method, route, family string
	hist                  atomic.Pointer[observerRef]
	codes                 [len(cachedStatuses)]atomic.Pointer[counterRef]
}

type observerRef struct{ prometheus.Observer }
type counterRef struct{ prometheus.Counter }

func newHTTPMetrics(reg *prometheus.Registry, log *slog.Logger) (*httpMetrics, error) {
	m := &httpMetrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "latchkey_http_requests_total",
			Help: "HTTP requests answered, by method, route template (\"unmatched\" for no route), status code and API family.",
		}, []string{"method", "route", "status", "family"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "latchkey_http_request_duration_seconds",
			Help:    "Time to answer an HTTP request (whole middleware chain), by method, route template and API family.",
			Buckets: durationBuckets,
		}, []string{"method", "route", "family"}),
		inFlight: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "latchkey_http_requests_in_flight",
			Help: "HTTP requests being answered now.",
		}),
		routes: map[string]*[numMethods]*routeMetrics{},
	}
	for _, c := range []prometheus.Collector{m.requests, m.duration, m.inFlight} {
		if err := reg.Register(c); err != nil {
			return nil, fmt.Errorf("server: register metrics: %w", err)
		}
	}
	for mi := range numMethods {
		for f := range numFamilies {
			m.unmatched[mi][f] = &routeMetrics{method: methodNames[mi], route: RouteUnmatched,
				family: envelope.Family(f).String()}
		}
	}
	m.handler = promhttp.HandlerFor(reg, promhttp.HandlerOpts{
		ErrorLog: promLogger{log},
		// A collector that fails leaves a gap, not a failed scrape.
		ErrorHandling: promhttp.ContinueOnError,
		// Scrapes gather everything: a few at once is plenty.
		MaxRequestsInFlight: 4,
	})
	return m, nil
}

// serve registers MetricsPath.
func (m *httpMetrics) serve(e *gin.Engine) {
	e.GET(MetricsPath, gin.WrapH(m.handler))
}

// prepare creates the slots of every registered route and resolves their
// histogram children, so that each route's series exist from the start.
// Counters by status appear with their first request.
func (m *httpMetrics) prepare(routes gin.RoutesInfo) {
	for _, r := range routes {
		byMethod := m.routes[r.Path]
		if byMethod == nil {
			byMethod = new([numMethods]*routeMetrics)
			m.routes[r.Path] = byMethod
		}
		mi := methodIndex(r.Method)
		if byMethod[mi] != nil {
			continue
		}
		rm := &routeMetrics{method: methodNames[mi], route: r.Path, family: envelope.FamilyOf(r.Path).String()}
		rm.observer(m)
		byMethod[mi] = rm
	}
}

// handle is the middleware; it runs first, so it times and counts every
// answer, the 413s, 401s and 404s of the other middleware included.
func (m *httpMetrics) handle(c *gin.Context) {
	start := time.Now()
	m.inFlight.Inc()
	defer m.inFlight.Dec()
	c.Next()
	m.record(c, start)
}

// record counts an answered request and observes its duration.
func (m *httpMetrics) record(c *gin.Context, start time.Time) {
	rm := m.lookup(c)
	status := c.Writer.Status()
	if rm == nil {
		m.slow(c, status, start)
		return
	}
	rm.counter(m, status).Inc()
	rm.observer(m).Observe(time.Since(start).Seconds())
}

// lookup finds the slots of the request's route: one read of an immutable
// map for a matched route, array indexing for an unmatched one. nil for a
// route registered after New (not done by this server).
func (m *httpMetrics) lookup(c *gin.Context) *routeMetrics {
	mi := methodIndex(c.Request.Method)
	p := c.FullPath()
	if p == "" {
		return m.unmatched[mi][familyIndex(envelope.FamilyOf(c.Request.URL.Path))]
	}
	if byMethod := m.routes[p]; byMethod != nil {
		return byMethod[mi]
	}
	return nil
}

// slow counts a request of a route unknown to prepare. The template is
// still a template (gin's), never the raw path.
func (m *httpMetrics) slow(c *gin.Context, status int, start time.Time) {
	method, route := methodNames[methodIndex(c.Request.Method)], c.FullPath()
	family := envelope.FamilyOf(route).String()
	m.requests.WithLabelValues(method, route, strconv.Itoa(status), family).Inc()
	m.duration.WithLabelValues(method, route, family).Observe(time.Since(start).Seconds())
}

func (rm *routeMetrics) observer(m *httpMetrics) prometheus.Observer {
	if o := rm.hist.Load(); o != nil {
		return o.Observer
	}
	// Racing first requests resolve the same child: the vector dedupes.
	o := m.duration.WithLabelValues(rm.method, rm.route, rm.family)
	rm.hist.Store(&observerRef{o})
	return o
}

func (rm *routeMetrics) counter(m *httpMetrics, status int) prometheus.Counter {
	slot := -1
	if status >= 0 && status < len(statusSlot) {
		slot = int(statusSlot[status])
	}
	if slot < 0 {
		return m.requests.WithLabelValues(rm.method, rm.route, strconv.Itoa(status), rm.family)
	}
	if c := rm.codes[slot].Load(); c != nil {
		return c.Counter
	}
	c := m.requests.WithLabelValues(rm.method, rm.route, statusText[slot], rm.family)
	rm.codes[slot].Store(&counterRef{c})
	return c
}

// promLogger sends promhttp's errors (a collector failing, a broken
// connection) to the server's logger.
type promLogger struct{ log *slog.Logger }

func (l promLogger) Println(v ...any) {
	l.log.Error("metrics: " + fmt.Sprint(v...))
}
