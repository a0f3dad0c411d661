package webhook

import (
	"sync"
	"time"
)

// Defaults of NewDeliverySet.
const (
	DefaultDeliveryMemory = 10000
	DefaultDeliveryTTL    = 24 * time.Hour
)

// DeliverySet remembers recent X-GitHub-Delivery ids so that a delivery
// seen twice (GitHub retrying a request whose answer it lost, or an
// operator redelivering one that succeeded) is processed once. It is
// bounded both in size (the oldest ids are forgotten first) and in time.
//
// It lives in memory: several replicas each remember their own deliveries
// and a restart forgets them all. That is harmless, because processing a
// delivery twice only evaluates a pull request twice, and evaluations are
// idempotent; the set saves the work, it does not guard correctness.
//
// A DeliverySet is safe for concurrent use.
type DeliverySet struct {
	limit int
	ttl   time.Duration
	now   func() time.Time

	mu    sync.Mutex
	state map[string]deliveryState
	order []string // ring of remembered ids, oldest at next
	next  int
}

type deliveryState struct {
	done    bool      // processed; false while in flight
	expires time.Time // for done ids
}

// NewDeliverySet returns a set remembering up to limit ids for ttl each;
// zero values pick DefaultDeliveryMemory and DefaultDeliveryTTL. now is the
// clock; nil means time.Now.
func NewDeliverySet(limit int, ttl time.Duration, now func() time.Time) *DeliverySet {
	if limit <= 0 {
		limit = DefaultDeliveryMemory
	}
	if ttl <= 0 {
		ttl = DefaultDeliveryTTL
	}
	if now == nil {
		now = time.Now
	}
	return &DeliverySet{limit: limit, ttl: ttl, now: now, state: make(map[string]deliveryState, limit), order: make([]string, 0, limit)}
}

// begin reserves id for processing. It returns false when id was processed
// within the TTL or is being processed now.
func (s *DeliverySet) begin(id string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if st, ok := s.state[id]; ok && (!st.done || s.now().Before(st.expires)) {
		return false
	}
	s.remember(id, deliveryState{})
	return true
}

// finish ends the processing of id. When processed is false (the delivery
// was refused, so GitHub records a failure and it may come again), id is
// forgotten and its next delivery is processed.
func (s *DeliverySet) finish(id string, processed bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.state[id]; !ok {
		return
	}
	if !processed {
		delete(s.state, id)
		return
	}
	s.state[id] = deliveryState{done: true, expires: s.now().Add(s.ttl)}
}

// remember records id, forgetting the oldest id when the set is full.
// Called with mu held.
func (s *DeliverySet) remember(id string, st deliveryState) {
	if _, ok := s.state[id]; !ok {
		if len(s.order) < s.limit {
			s.order = append(s.order, id)
		} else {
			delete(s.state, s.order[s.next])
			s.order[s.next] = id
			s.next = (s.next + 1) % s.limit
		}
	}
	s.state[id] = st
}

// Len returns the number of ids remembered, in flight included.
func (s *DeliverySet) Len() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.state)
}
