package main

import (
	"testing"

	"github.com/example-org/promobot/internal/testing/azuritetest"
)

// TestMain stops the Azurite the tests share (azuritetest.Shared): one
// service for the package instead of one per test.
func TestMain(m *testing.M) { azuritetest.Main(m) }
