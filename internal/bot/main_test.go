package bot

import (
	"testing"

	"github.com/example-org/promobot/internal/testing/azuritetest"
)

// TestMain stops the Azurite the durable-queue tests share
// (azuritetest.SharedWithQueue): one blob and queue service for the
// package, an account per test, instead of two services per test.
func TestMain(m *testing.M) { azuritetest.Main(m) }
