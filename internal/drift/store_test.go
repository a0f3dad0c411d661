package drift_test

import (
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/container"

	"github.com/example-org/promobot/internal/artifact"
	"github.com/example-org/promobot/internal/drift"
	"github.com/example-org/promobot/internal/testing/azuritetest"
)

// exercise appends loads of two jobs over two days, eight of them
// concurrently, and reads them back.
func exercise(t *testing.T, s drift.Store) {
	t.Helper()
	ctx := t.Context()
	day1 := time.Date(2026, 11, 2, 23, 50, 0, 0, time.UTC)
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for i := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs <- s.Append(ctx, load("scoring-prod-1", "1.5.0", sha2, day1.Add(time.Duration(i)*time.Second)))
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatalf("append: %v", err)
		}
	}
	if err := s.Append(ctx, load("batch-nightly", "1.5.0", sha2, day1.Add(20*time.Minute))); err != nil {
		t.Fatal(err)
	}
	if err := s.Append(ctx, load("../escape", "1.5.0", sha2, day1)); err == nil {
		t.Fatal("a job id with a path in it was accepted")
	}
	loads, skipped, err := s.Loads(ctx, day1, day1.Add(24*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if len(loads) != 9 || skipped != 0 {
		t.Fatalf("read %d loads (%d skipped), want 9", len(loads), skipped)
	}
	if last := loads[len(loads)-1]; last.Job != "batch-nightly" || last.Time.Day() != 3 {
		t.Errorf("last load = %+v, want batch-nightly on the next day", last)
	}
	loads, _, err = s.Loads(ctx, day1.Add(24*time.Hour), day1.Add(24*time.Hour))
	if err != nil || len(loads) != 1 {
		t.Fatalf("second day = %d loads, %v; want 1", len(loads), err)
	}
}

func TestFileStore(t *testing.T) {
	dir := t.TempDir()
	s, err := drift.Open("file:"+dir, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	exercise(t, s)
	p := filepath.Join(dir, "2026-11-03", "batch-nightly.jsonl")
	f, err := os.OpenFile(p, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	fmt.Fprintln(f, `{"torn":`)
	f.Close()
	_, skipped, err := s.Loads(t.Context(), time.Date(2026, 11, 3, 0, 0, 0, 0, time.UTC), time.Date(2026, 11, 3, 0, 0, 0, 0, time.UTC))
	if err != nil || skipped != 1 {
		t.Errorf("torn line: skipped %d, %v; want 1", skipped, err)
	}
}

func TestAzureStore(t *testing.T) {
	a := azuritetest.Start(t)
	cred, err := container.NewSharedKeyCredential(azuritetest.AccountName, azuritetest.AccountKey)
	if err != nil {
		t.Fatal(err)
	}
	c, err := container.NewClientWithSharedKeyCredential(a.Endpoint+"/scoring-reports", cred, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Create(t.Context(), nil); err != nil {
		t.Fatal(err)
	}
	s, err := drift.Open(a.BlobURL("scoring-reports", "loads"), func() (artifact.Credentials, error) {
		return artifact.Credentials{ConnectionString: a.ConnectionString}, nil
	}, nil)
	if err != nil {
		t.Fatal(err)
	}
	exercise(t, s)
}
