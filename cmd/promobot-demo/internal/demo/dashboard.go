package demo

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/example-org/promobot/internal/testing/procutil"
)

// dashboard starts promobot dashboard on the demo repository, on a loopback
// port, checks that its matrix answers, and says its address. The process
// is stopped with the other services, unless the run keeps it up.
func (s *story) dashboard(ctx context.Context) error {
	cmd := exec.Command(s.w.opts.Promobot, "dashboard", "--repo", s.w.barePath, "--addr", "127.0.0.1:0",
		"--github-repo", Org+"/"+RepoName, "--cache-dir", filepath.Join(s.w.work, "dashboard-cache"))
	cmd.Env = s.w.env("pat")
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return err
	}
	var stderr strings.Builder
	cmd.Stderr = &stderr
	procutil.DieWithParent(cmd)
	if err := cmd.Start(); err != nil {
		return err
	}
	done := make(chan error, 1)
	s.w.stops = append(s.w.stops, func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			_ = cmd.Process.Kill()
		}
	})
	found := make(chan string, 1)
	go func() {
		lines := bufio.NewScanner(stdout)
		for lines.Scan() {
			if url, ok := strings.CutPrefix(lines.Text(), "dashboard: "); ok {
				found <- url
			}
		}
		_, _ = io.Copy(io.Discard, stdout)
		done <- cmd.Wait()
	}()
	var url string
	select {
	case url = <-found:
	case err := <-done:
		return fmt.Errorf("promobot dashboard exited: %v: %s", err, stderr.String())
	case <-time.After(30 * time.Second):
		return errors.New("promobot dashboard printed no address within 30s")
	case <-ctx.Done():
		return ctx.Err()
	}
	resp, err := http.Get(url)
	if err != nil {
		return err
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("the dashboard answered %s at %s", resp.Status, url)
	}
	s.dashboardURL = url
	s.say("promobot dashboard: what runs where, each model's timeline and the open promotions at %s", url)
	return nil
}
