package scalebench

import (
	"fmt"
	"io"
	"slices"
	"strconv"
	"time"
)

// Result is what a run measured.
type Result struct {
	Options Options
	// Correct is the number of pull requests whose head carries the
	// expected verdict; InProgress those whose newest check run is not
	// completed; Wrong explains every pull request not correct.
	Correct, InProgress int
	Wrong               []string
	// StaleInProgress counts the check runs left in progress on heads the
	// pull requests no longer have.
	StaleInProgress int
	// Evaluations is the number of check runs created during the load and
	// until quiet; Duplicates those that concluded with the head and
	// fingerprint of an earlier one.
	Evaluations, Duplicates int
	// Acks are the acknowledgement times of the deliveries answered 2xx;
	// Refused the deliveries answered otherwise; Rerouted those sent to
	// another replica after a connection failed.
	Acks              []time.Duration
	Refused, Rerouted int
	// Kills lists, per kill, the pull requests it left waiting and the
	// time until every one of them was evaluated again.
	Kills []Kill
	// Setup is the time for the replicas' first evaluation of every pull
	// request; Load the time to send the deliveries; Settle the time from
	// the last delivery until quiet.
	Setup, Load, Settle time.Duration
	// Quiet says whether the replicas became quiet within Options.Settle;
	// when not, the figures are those at that moment.
	Quiet bool
}

// Kill is one SIGKILL of a replica.
type Kill struct {
	Replica string
	// Held is the recovery of the pull requests the killed replica
	// affected: waiting for an evaluation at the kill, with a message of
	// theirs taken by that replica and not finished (its log says which).
	// This is the issue's "time from a kill until every affected pull
	// request is correct".
	Held Recovery
	// Waiting is the recovery of every pull request waiting at the kill,
	// on any replica or still queued: stricter, and it also counts what
	// the next kills strand and the backlog of the load.
	Waiting Recovery
}

// Recovery is the time from a kill until every pull request of a set was
// evaluated again.
type Recovery struct {
	// PullRequests is the size of the set.
	PullRequests int
	// Time is the time from the kill until the last one was current;
	// Recovered false when that did not happen before the end.
	Time      time.Duration
	Recovered bool
}

func (r Recovery) String() string {
	if !r.Recovered {
		return fmt.Sprintf("%d, not recovered by the end", r.PullRequests)
	}
	return fmt.Sprintf("%d, recovered in %s", r.PullRequests, r.Time.Round(100*time.Millisecond))
}

// Ack returns the q-quantile of the acknowledgement times.
func (r *Result) Ack(q float64) time.Duration {
	if len(r.Acks) == 0 {
		return 0
	}
	s := slices.Clone(r.Acks)
	slices.Sort(s)
	return s[min(len(s)-1, int(q*float64(len(s))))]
}

// MaxRecovery returns the longest recovery of the pull requests a kill
// affected (Kill.Held), over every kill.
func (r *Result) MaxRecovery() time.Duration {
	var m time.Duration
	for _, k := range r.Kills {
		m = max(m, k.Held.Time)
	}
	return m
}

// MaxRecoveryAllWaiting returns the longest recovery of every pull request
// waiting at a kill (Kill.Waiting), over every kill.
func (r *Result) MaxRecoveryAllWaiting() time.Duration {
	var m time.Duration
	for _, k := range r.Kills {
		m = max(m, k.Waiting.Time)
	}
	return m
}

// Unrecovered counts the kills after which some pull request of a set
// was never evaluated again.
func (r *Result) Unrecovered() (held, waiting int) {
	for _, k := range r.Kills {
		if !k.Held.Recovered {
			held++
		}
		if !k.Waiting.Recovered {
			waiting++
		}
	}
	return held, waiting
}

// Table writes the figures as a short table.
func (r *Result) Table(out io.Writer) {
	o := r.Options
	held, waiting := r.Unrecovered()
	fmt.Fprintf(out, "scale-out: mode %s, %d replicas × %d workers, %d pull requests, %d deliveries at %.0f/s, %d kills\n",
		o.Mode, o.Replicas, o.Workers, o.PullRequests, o.Deliveries, o.Rate, len(r.Kills))
	rows := [][2]string{
		{"correct verdict on head", fmt.Sprintf("%d/%d", r.Correct, o.PullRequests)},
		{"check runs left in progress", fmt.Sprintf("%d on heads, %d on superseded heads", r.InProgress, r.StaleInProgress)},
		{"evaluations (check runs)", strconv.Itoa(r.Evaluations)},
		{"duplicate evaluations", fmt.Sprintf("%d (%.0f%%)", r.Duplicates, 100*float64(r.Duplicates)/float64(max(r.Evaluations, 1)))},
		{"ack p50 / p99", fmt.Sprintf("%.2f ms / %.2f ms", ms(r.Ack(0.50)), ms(r.Ack(0.99)))},
		{"deliveries refused / rerouted", fmt.Sprintf("%d / %d", r.Refused, r.Rerouted)},
		{"recovery, pull requests it held", recovery(r.MaxRecovery(), held)},
		{"recovery, all waiting at kill", recovery(r.MaxRecoveryAllWaiting(), waiting)},
		{"setup / load / settle", fmt.Sprintf("%s / %s / %s", r.Setup.Round(100*time.Millisecond), r.Load.Round(100*time.Millisecond), r.Settle.Round(100*time.Millisecond))},
	}
	for _, row := range rows {
		fmt.Fprintf(out, "  %-32s %s\n", row[0], row[1])
	}
	if !r.Quiet {
		fmt.Fprintf(out, "  not quiet %s after the load: the figures are those at that moment\n", o.Settle)
	}
	for i, k := range r.Kills {
		fmt.Fprintf(out, "  kill %d: %s; held %s; all waiting %s\n", i+1, k.Replica, k.Held, k.Waiting)
	}
	for _, line := range r.Wrong {
		fmt.Fprintf(out, "  wrong: %s\n", line)
	}
}

// recovery renders a longest recovery and how many kills never recovered.
func recovery(longest time.Duration, unrecovered int) string {
	s := longest.Round(100*time.Millisecond).String() + " (max)"
	if unrecovered > 0 {
		s += fmt.Sprintf(", %d kills not recovered by the end", unrecovered)
	}
	return s
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
