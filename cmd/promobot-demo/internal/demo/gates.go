package demo

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"time"
)

// exceptionLabel is the demo policy's metric exception label for prod.
const exceptionLabel = "metric-exception"

// governMetricException plays the part of the prod promotion that a metric
// gate blocks: the new release's sharpe is worse than prod's beyond the
// tolerance, so the owners' approvals are not enough. Dana adds the
// exception label, which asks for the policy file's owners as well; pat
// and paula (platform-admins) approve, and the check passes, naming the
// overridden gate and whose approvals let it through.
func (s *story) governMetricException(ctx context.Context, number int, sha string) error {
	since := time.Now()
	if err := s.label(ctx, number, exceptionLabel, "dana"); err != nil {
		return err
	}
	s.say("dana adds the label %s to PR #%d: the sharpe gate may be overridden, with governance approvals", exceptionLabel, number)
	if err := s.expectCheck(ctx, number, sha, since, "failure", "metric gates of prod are overridden"); err != nil {
		return err
	}
	for _, step := range []struct{ login, conclusion, titleHas string }{
		{"pat", "failure", "1 more governance approval"},
		{"paula", "success", "2/2 governance approvals"},
	} {
		since = time.Now()
		if err := s.review(ctx, number, step.login); err != nil {
			return err
		}
		s.say("%s (@%s/platform-admins, owners of the policy) approves the exception", step.login, Org)
		if err := s.expectCheck(ctx, number, sha, since, step.conclusion, step.titleHas); err != nil {
			return err
		}
	}
	return nil
}

// label adds a label to a pull request as login and tells the bot.
func (s *story) label(ctx context.Context, number int, name, login string) error {
	url := fmt.Sprintf("%srepos/%s/%s/issues/%d/labels", s.w.apiURL, Org, RepoName, number)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, strings.NewReader(fmt.Sprintf(`{"labels":[%q]}`, name)))
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+s.w.github.UserToken(login))
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	_ = resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("label PR #%d: status %d", number, resp.StatusCode)
	}
	p, err := s.w.github.PullRequestEvent(ctx, Org, RepoName, number, "labeled", login)
	if err != nil {
		return err
	}
	p["label"] = map[string]any{"name": name}
	return s.w.deliver(ctx, "pull_request", p)
}
