package main

import (
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/example-org/promobot/internal/testing/azuritetest"
)

// TestServeLeaseFlags checks the flags that coordinate replicas: in-process
// leases by default, checked before listening, and a container on Azurite
// opened (and created) before listening.
func TestServeLeaseFlags(t *testing.T) {
	t.Parallel()
	vars := listenFailingVars(t)
	az := azuritetest.Start(t)
	tests := []struct {
		name string
		env  map[string]string
		args []string
		want string
	}{
		{name: "in-process by default", want: "listen on 256.1.1.1:80"},
		{name: "a container on Azurite", env: map[string]string{"AZURE_STORAGE_CONNECTION_STRING": az.ConnectionString, "PROMOBOT_LEASE_CONTAINER": az.Endpoint + "/leases"},
			want: "listen on 256.1.1.1:80"},
		{name: "period too short", args: []string{"--lease-period", "5s"}, want: "--lease-period (PROMOBOT_LEASE_PERIOD) must be between 15s and 1m0s (Azure's limits), not 5s"},
		{name: "period too long", env: map[string]string{"PROMOBOT_LEASE_PERIOD": "2m"}, want: "--lease-period (PROMOBOT_LEASE_PERIOD) must be between 15s and 1m0s"},
		{name: "not a container", args: []string{"--lease-container", "azblob://acct"}, want: "--lease-container (PROMOBOT_LEASE_CONTAINER): lease container \"azblob://acct\""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) { wantServeUsageError(t, vars, tc.env, tc.args, tc.want) })
	}

	e := &env{getenv: func(string) string { return "" }}
	cmd := newServeCommand(e)
	if err := cmd.ParseFlags(nil); err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, name := range []string{"lease-container", "lease-period"} {
		got[name] = cmd.Flags().Lookup(name).Value.String()
	}
	if diff := cmp.Diff(map[string]string{"lease-container": "", "lease-period": "30s"}, got); diff != "" {
		t.Errorf("defaults (-want +got):\n%s", diff)
	}
}

// TestServeLeaseContainerUnreachable exits "unavailable" (retry) when the
// storage account cannot be reached.
func TestServeLeaseContainerUnreachable(t *testing.T) {
	t.Parallel()
	vars := listenFailingVars(t)
	vars["AZURE_STORAGE_CONNECTION_STRING"] = "UseDevelopmentStorage=true"
	vars["PROMOBOT_LEASE_CONTAINER"] = "http://127.0.0.1:1/devstoreaccount1/leases"
	var stderr syncBuffer
	if code := runServe(t.Context(), vars, &stderr); code != exitUnavailable {
		t.Errorf("exit %d, want %d:\n%s", code, exitUnavailable, stderr.String())
	}
}
