// Package demo runs promobot's whole story on one machine: Azurite for
// artifacts, a git server and a GitHub emulator on loopback, the real
// promobot binary as the bot, the engineer's CLI and the scoring job. It
// backs `make demo` and the end-to-end test of the same name.
package demo

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob"

	"github.com/example-org/promobot/internal/testing/azuritetest"
	"github.com/example-org/promobot/internal/testing/githubtest"
	"github.com/example-org/promobot/internal/testing/gittest"
	"github.com/example-org/promobot/internal/testing/procutil"
)

// The demo organization, repository and people.
const (
	Org           = "example-org"
	RepoName      = "model-gitops"
	installation  = 41
	appID         = 1001
	webhookSecret = "demo-webhook-secret"
	container     = "models"
)

// person is a member of the demo organization.
type person struct {
	login, name, team string
}

// people are the demo's cast: each environment has its own owners.
var people = []person{
	{"dana", "Dana Engineer", "ml-engineers"},
	{"alex", "Alex Engineer", "ml-engineers"},
	{"victor", "Victor Validator", "model-validators"},
	{"rita", "Rita Risk", "model-risk"},
	{"remy", "Remy Release", "release-managers"},
	{"pat", "Pat Platform", "platform-admins"},
	{"paula", "Paula Platform", "platform-admins"},
}

func email(login string) string { return login + "@example.org" }

// Options configure a demo run.
type Options struct {
	// Promobot is the path of the promobot binary to run.
	Promobot string
	// Out is the folder for the files a person opens afterwards.
	Out string
	// Dir is where Azurite is looked for (node_modules up to the module root).
	Dir string
	// Log receives one readable line per step.
	Log io.Writer
	// KeepDashboard, when set, keeps the services and the dashboard up
	// after the story until it is closed (an interrupt).
	KeepDashboard <-chan struct{}
}

// world holds the running services.
type world struct {
	opts      Options
	work      string
	azurite   *azuritetest.Azurite
	blobs     *azblob.Client
	git       *gittest.Server
	github    *githubtest.Emulator
	apiServer *http.Server
	apiURL    string
	barePath  string
	cloneURL  string
	botURL    string
	bot       *exec.Cmd
	botDone   chan error
	stops     []func()
}

// start brings up Azurite, the git server and the GitHub emulator.
func start(ctx context.Context, opts Options) (*world, error) {
	w := &world{opts: opts}
	var err error
	if w.work, err = os.MkdirTemp("", "promobot-demo-*"); err != nil {
		return nil, err
	}
	w.stops = append(w.stops, func() { os.RemoveAll(w.work) })

	az, stopAzurite, err := azuritetest.Launch(opts.Dir)
	if err != nil {
		return w, fmt.Errorf("start Azurite (run make npm-deps): %w", err)
	}
	w.stops = append(w.stops, stopAzurite)
	w.azurite = az
	if w.blobs, err = azblob.NewClientFromConnectionString(az.ConnectionString, nil); err != nil {
		return w, err
	}
	if _, err := w.blobs.CreateContainer(ctx, container, nil); err != nil {
		return w, err
	}

	appKey, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return w, err
	}
	logins := map[string]string{}
	for _, p := range people {
		logins[email(p.login)] = p.login
	}
	w.github = githubtest.New(githubtest.Config{AppID: appID, AppPublicKey: &appKey.PublicKey, EmailLogins: logins})
	if w.git, err = gittest.NewServer(filepath.Join(w.work, "git"), gittest.WithAuthorizer(w.github.GitAuthorizer())); err != nil {
		return w, err
	}
	w.stops = append(w.stops, func() { w.git.Close() })

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return w, err
	}
	w.apiServer = &http.Server{Handler: w.github.Handler(), ReadHeaderTimeout: 5 * time.Second}
	go w.apiServer.Serve(ln)
	w.stops = append(w.stops, func() { w.apiServer.Close() })
	base := "http://" + ln.Addr().String()
	w.github.SetBaseURL(base)
	w.apiURL = base + "/api/v3/"

	rel := Org + "/" + RepoName + ".git"
	if w.barePath, err = gittest.InitBare(w.git.Root(), rel, "main"); err != nil {
		return w, err
	}
	w.cloneURL = w.git.RepoURL(rel)
	if err := w.github.AddRepo(githubtest.Repo{Owner: Org, Name: RepoName, DefaultBranch: "main", Path: w.barePath, CloneURL: w.cloneURL}); err != nil {
		return w, err
	}
	w.github.AddInstallation(installation, Org, Org+"/"+RepoName)
	for _, p := range people {
		w.github.AddUser(p.login, email(p.login))
		w.github.AddTeam(Org, p.team)
		w.github.AddTeamMember(Org, p.team, p.login, "active")
		if err := w.github.SetPermission(Org, RepoName, p.login, "write"); err != nil {
			return w, err
		}
	}
	keyFile := filepath.Join(w.work, "app-key.pem")
	der := x509.MarshalPKCS1PrivateKey(appKey)
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: der}), 0o600); err != nil {
		return w, err
	}
	return w, w.startBot(ctx, keyFile)
}

// startBot runs `promobot serve` as its own process, as in production.
func (w *world) startBot(ctx context.Context, keyFile string) error {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	addr := ln.Addr().String()
	ln.Close()
	logFile, err := os.Create(filepath.Join(w.opts.Out, "serve.log"))
	if err != nil {
		return err
	}
	attestKey, _, attestStore, err := w.attestationKey()
	if err != nil {
		return err
	}
	cmd := exec.Command(w.opts.Promobot, "serve",
		"--addr", addr, "--app-id", fmt.Sprint(appID), "--private-key", keyFile,
		"--github-url", w.apiURL, "--cache-dir", filepath.Join(w.work, "cache"),
		"--verify-artifacts", "--log-format", "text", "--log-level", "info",
		"--attest-key", attestKey, "--attest-store", attestStore)
	cmd.Env = append(os.Environ(),
		"PROMOBOT_WEBHOOK_SECRET="+webhookSecret,
		"AZURE_STORAGE_CONNECTION_STRING="+w.azurite.ConnectionString)
	cmd.Stdout, cmd.Stderr = logFile, logFile
	procutil.DieWithParent(cmd)
	if err := cmd.Start(); err != nil {
		logFile.Close()
		return err
	}
	w.bot, w.botDone = cmd, make(chan error, 1)
	go func() { w.botDone <- cmd.Wait(); logFile.Close() }()
	w.botURL = "http://" + addr
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		resp, err := http.Get(w.botURL + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		select {
		case err := <-w.botDone:
			return fmt.Errorf("promobot serve exited: %v (see %s)", err, logFile.Name())
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
	}
	return errors.New("promobot serve did not become ready within 30s")
}

// stop ends every process and server, the bot first so it drains.
func (w *world) stop() {
	if w.bot != nil && w.bot.Process != nil {
		_ = w.bot.Process.Signal(syscall.SIGTERM)
		select {
		case <-w.botDone:
		case <-time.After(10 * time.Second):
			_ = w.bot.Process.Kill()
			<-w.botDone
		}
	}
	for i := len(w.stops) - 1; i >= 0; i-- {
		w.stops[i]()
	}
}

// deliver sends a webhook to the bot as GitHub would.
func (w *world) deliver(ctx context.Context, event string, payload githubtest.Payload) error {
	resp, err := githubtest.Deliver(ctx, w.botURL+"/webhook", webhookSecret, event, payload)
	if err != nil {
		return err
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusAccepted {
		return fmt.Errorf("bot answered %s to %s", resp.Status, event)
	}
	return nil
}

// env returns the environment of a CLI run by login.
func (w *world) env(login string, extra ...string) []string {
	name := login
	for _, p := range people {
		if p.login == login {
			name = p.name
		}
	}
	return append(append(os.Environ(),
		"GITHUB_TOKEN="+w.github.UserToken(login),
		"GITHUB_API_URL="+w.apiURL,
		"GIT_AUTHOR_NAME="+name, "GIT_AUTHOR_EMAIL="+email(login),
		"AZURE_STORAGE_CONNECTION_STRING="+w.azurite.ConnectionString,
	), extra...)
}

// run executes promobot with args in dir as login and returns its output.
func (w *world) run(ctx context.Context, login, dir string, args ...string) (stdout, stderr string, code int, err error) {
	cmd := exec.CommandContext(ctx, w.opts.Promobot, args...)
	cmd.Dir = dir
	cmd.Env = w.env(login)
	var out, errOut strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err = cmd.Run()
	var exit *exec.ExitError
	if errors.As(err, &exit) {
		return out.String(), errOut.String(), exit.ExitCode(), nil
	}
	return out.String(), errOut.String(), 0, err
}
