package bot

import (
	"context"
	"log/slog"
	"strings"
	"sync"

	"github.com/example-org/promobot/internal/githubapi"
)

// maxPosted bounds the memory of posted check runs; it is cleared when
// full, which costs at most one repeated write per head.
const maxPosted = 4096

// postedRuns remembers, by head, the last check run this process posted.
type postedRuns struct {
	mu   sync.Mutex
	runs map[string]string
}

func postedKey(t target, headSHA string) string { return strings.ToLower(t.fullName()) + "@" + headSHA }

func postedValue(rep report) string {
	return rep.conclusion + "\x00" + truncate(rep.title, maxTitle, "…") + "\x00" + rep.externalID
}

func (p *postedRuns) remember(key, value string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.runs == nil || len(p.runs) >= maxPosted {
		p.runs = map[string]string{}
	}
	p.runs[key] = value
}

func (p *postedRuns) is(key, value string) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.runs[key] == value
}

// alreadyPosted reports whether the bot's latest check run on headSHA is
// rep already: completed with the same conclusion, title and fingerprint
// of its inputs. A delivery seen twice (redelivered, or handled by two
// replicas) then writes nothing the second time. Re-runs someone asked for
// and evaluations that could not complete always post.
//
// With in-process leases (one replica) this process wrote every check run,
// so its memory of the last one it posted on the head answers, at no
// request. With leases that expire, another replica may have written
// since: the latest check run is read (a 304 while nothing changed), and an
// error reading it posts.
func (b *Bot) alreadyPosted(ctx context.Context, logger *slog.Logger, gh githubAPI, t target, headSHA string, rep report) bool {
	if t.rerun || rep.cause != nil || rep.externalID == "" {
		return false
	}
	same := false
	if b.cfg.Leases.Period() == 0 {
		same = b.posted.is(postedKey(t, headSHA), postedValue(rep))
	} else {
		run, err := gh.LatestCheckRun(ctx, t.owner, t.name, headSHA, b.cfg.CheckName, b.cfg.AppID)
		if err != nil || run == nil {
			return false
		}
		same = run.Status == githubapi.StatusCompleted && postedValue(rep) == run.Conclusion+"\x00"+run.Title+"\x00"+run.ExternalID
	}
	if same {
		logger.Info("check run already posted with this verdict and these inputs; nothing written", "conclusion", rep.conclusion)
	}
	return same
}
