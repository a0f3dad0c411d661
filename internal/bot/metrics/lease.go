package metrics

import "github.com/prometheus/client_golang/prometheus"

// leaseMetrics count the coordination of replicas by leases.
type leaseMetrics struct {
	takeovers     prometheus.Counter
	leaderChanges *prometheus.CounterVec
	leader        prometheus.Gauge
}

func newLeaseMetrics(reg *prometheus.Registry) leaseMetrics {
	l := leaseMetrics{
		takeovers: prometheus.NewCounter(prometheus.CounterOpts{
			Namespace: namespace, Name: "lease_takeovers_total",
			Help: "Pull request and leader leases this replica acquired after their previous holder let them expire without releasing them (a replica that died or stalled).",
		}),
		leaderChanges: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: namespace, Name: "leader_changes_total",
			Help: "Times this replica became (acquired) or stopped being (lost) the leader of the periodic work.",
		}, []string{"change"}),
		leader: prometheus.NewGauge(prometheus.GaugeOpts{
			Namespace: namespace, Name: "leader",
			Help: "1 while this replica leads the periodic work (resynchronization, rechecks, features' passes), else 0.",
		}),
	}
	reg.MustRegister(l.takeovers, l.leaderChanges, l.leader)
	return l
}

// LeaseTakeover counts a lease taken over from a holder that let it
// expire.
func (m *Metrics) LeaseTakeover() {
	if m == nil {
		return
	}
	m.lease.takeovers.Inc()
}

// LeaderChange records that this replica became the leader (leading) or
// stopped being it.
func (m *Metrics) LeaderChange(leading bool) {
	if m == nil {
		return
	}
	change, v := "lost", 0.0
	if leading {
		change, v = "acquired", 1
	}
	m.lease.leaderChanges.WithLabelValues(change).Inc()
	m.lease.leader.Set(v)
}
