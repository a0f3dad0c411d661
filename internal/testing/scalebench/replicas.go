package scalebench

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/example-org/promobot/internal/testing/procutil"
)

// Build builds cmd/promobot into dir and returns the binary's path.
func Build(t testing.TB, dir string) string {
	t.Helper()
	root, err := repoRoot()
	if err != nil {
		t.Fatal(err)
	}
	goTool := os.Getenv("GO") // as make passes it
	if goTool == "" {
		goTool = "go"
	}
	bin := filepath.Join(dir, "promobot")
	cmd := exec.Command(goTool, "build", "-ldflags=-s -w", "-o", bin, "./cmd/promobot")
	cmd.Dir = root
	began := time.Now()
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build ./cmd/promobot: %v\n%s", err, out)
	}
	t.Logf("scalebench: built promobot in %s", time.Since(began).Round(time.Millisecond))
	return bin
}

// ServeHasFlag reports whether `promobot serve` of bin has the flag
// --name.
func ServeHasFlag(bin, name string) bool {
	out, _ := exec.Command(bin, "serve", "--help").CombinedOutput()
	return bytes.Contains(out, []byte("--"+name+" "))
}

// repoRoot is the module root above the working directory.
func repoRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("no go.mod above the working directory")
		}
		dir = parent
	}
}

// baseEnv is the environment of every process the harness starts: enough
// to run, and none of the caller's PROMOBOT_ or Azure settings.
func baseEnv() []string {
	var env []string
	for _, k := range []string{"PATH", "HOME", "TMPDIR", "GOCOVERDIR"} {
		if v, ok := os.LookupEnv(k); ok {
			env = append(env, k+"="+v)
		}
	}
	return env
}

// replica is one `promobot serve` process, restarted on the same address
// as a container would be behind its load balancer.
type replica struct {
	name string
	addr string
	bin  string
	args []string
	env  []string
	dir  string

	mu     sync.Mutex
	cmd    *exec.Cmd
	exited chan struct{}
	starts int
}

// newReplica reserves a loopback port for a replica; it does not start it.
func newReplica(name, bin, dir string, env []string, args []string) (*replica, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	addr := l.Addr().String()
	l.Close()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	return &replica{name: name, addr: addr, bin: bin, args: args, env: env, dir: dir}, nil
}

// URL is the replica's base URL.
func (r *replica) URL() string { return "http://" + r.addr }

// start runs the replica, with a fresh cache directory as a new container
// would have, and waits until /readyz answers 200.
func (r *replica) start() error {
	r.mu.Lock()
	r.starts++
	n := r.starts
	r.mu.Unlock()
	logFile, err := os.OpenFile(filepath.Join(r.dir, "serve.log"), os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
	if err != nil {
		return err
	}
	fmt.Fprintf(logFile, "=== start %d at %s\n", n, time.Now().UTC().Format(time.RFC3339Nano))
	cache := filepath.Join(r.dir, "cache-"+strconv.Itoa(n))
	cmd := exec.Command(r.bin, append([]string{"serve"}, r.args...)...)
	cmd.Env = append(append([]string(nil), r.env...), "PROMOBOT_ADDR="+r.addr, "PROMOBOT_CACHE_DIR="+cache)
	cmd.Stdout, cmd.Stderr = logFile, logFile
	procutil.DieWithParent(cmd)
	if err := cmd.Start(); err != nil {
		logFile.Close()
		return err
	}
	exited := make(chan struct{})
	go func() {
		_ = cmd.Wait()
		logFile.Close()
		close(exited)
	}()
	r.mu.Lock()
	r.cmd, r.exited = cmd, exited
	r.mu.Unlock()

	client := &http.Client{Timeout: time.Second, Transport: &http.Transport{}}
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case <-exited:
			return fmt.Errorf("%s exited before it was ready; log:\n%s", r.name, r.logTail())
		default:
		}
		resp, err := client.Get(r.URL() + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	return fmt.Errorf("%s not ready in 60s; log:\n%s", r.name, r.logTail())
}

// kill sends SIGKILL and waits for the process to be gone.
func (r *replica) kill() {
	r.mu.Lock()
	cmd, exited := r.cmd, r.exited
	r.mu.Unlock()
	if cmd == nil {
		return
	}
	_ = cmd.Process.Signal(syscall.SIGKILL)
	<-exited
}

// logTail returns the end of the replica's log.
func (r *replica) logTail() string {
	data, _ := os.ReadFile(filepath.Join(r.dir, "serve.log"))
	if len(data) > 8<<10 {
		data = data[len(data)-8<<10:]
		if i := bytes.IndexByte(data, '\n'); i >= 0 {
			data = data[i+1:]
		}
	}
	return string(data)
}

// lastRun returns the log of the replica's last run.
func (r *replica) lastRun() ([]byte, error) {
	data, err := os.ReadFile(filepath.Join(r.dir, "serve.log"))
	if err != nil {
		return nil, err
	}
	if i := bytes.LastIndex(data, []byte("=== start ")); i >= 0 {
		data = data[i:]
	}
	return data, nil
}

// logged reports whether the replica's last run logged a line with the
// message msg.
func (r *replica) logged(msg string) bool {
	data, err := r.lastRun()
	return err == nil && bytes.Contains(data, []byte(`"msg":"`+msg+`"`))
}

// busy reports whether the replica's in-memory queue has an evaluation
// waiting or running, by its /metrics; an error counts as busy.
func (r *replica) busy() bool {
	client := &http.Client{Timeout: 5 * time.Second}
	resp, err := client.Get(r.URL() + "/metrics")
	if err != nil {
		return true
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != http.StatusOK {
		return true
	}
	idle := 0
	for line := range bytes.SplitSeq(data, []byte("\n")) {
		if string(line) == "promobot_queue_depth 0" || string(line) == "promobot_queue_running 0" {
			idle++
		}
	}
	return idle != 2
}

// heldAtExit reads the log of the replica's last run, once it has exited,
// and returns the pull requests whose messages it had taken and not
// finished: a "job taken from the queue" line with no "job ended" line of
// the same message_id.
func (r *replica) heldAtExit() (map[int]bool, error) {
	data, err := r.lastRun()
	if err != nil {
		return nil, err
	}
	taken := map[string]int{}
	for line := range bytes.SplitSeq(data, []byte("\n")) {
		if !bytes.HasPrefix(line, []byte("{")) || !bytes.Contains(line, []byte(`"message_id"`)) {
			continue
		}
		var entry struct {
			Msg       string `json:"msg"`
			MessageID string `json:"message_id"`
			PR        int    `json:"pr"`
		}
		if json.Unmarshal(line, &entry) != nil {
			continue // the last line, cut by the kill
		}
		switch entry.Msg {
		case "job taken from the queue":
			taken[entry.MessageID] = entry.PR
		case "job ended":
			delete(taken, entry.MessageID)
		}
	}
	held := map[int]bool{}
	for _, pr := range taken {
		if pr > 0 {
			held[pr] = true
		}
	}
	return held, nil
}
