package exchange

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"k8s.io/client-go/rest"
)

// fakeTokenServer answers TokenRequests as an API server whose clock is
// skew off this machine's and that grants at most lifetime, whatever was
// asked. A real API server cannot be made to do either on demand.
func fakeTokenServer(t *testing.T, skew, lifetime time.Duration, sendDate bool) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		serverNow := time.Now().Add(skew)
		if sendDate {
			w.Header().Set("Date", serverNow.UTC().Format(http.TimeFormat))
		} else {
			w.Header()["Date"] = nil
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusCreated)
		_ = json.NewEncoder(w).Encode(map[string]any{
			"kind": "TokenRequest", "apiVersion": "authentication.k8s.io/v1",
			"status": map[string]any{
				"token":               "header.payload.signature",
				"expirationTimestamp": serverNow.Add(lifetime).UTC().Format(time.RFC3339),
			},
		})
	}))
	t.Cleanup(srv.Close)
	return srv
}

func TestMintPlacesExpiryOnTheLocalClock(t *testing.T) {
	tests := map[string]struct {
		skew, lifetime time.Duration
		sendDate       bool
		want           time.Duration // expected local lifetime, within 3s
	}{
		"clocks agree":                   {0, time.Hour, true, time.Hour},
		"server 10m ahead":               {10 * time.Minute, time.Hour, true, time.Hour},
		"server 10m behind":              {-10 * time.Minute, time.Hour, true, time.Hour},
		"server caps the lifetime":       {0, 20 * time.Minute, true, 20 * time.Minute},
		"caps and skew":                  {-7 * time.Minute, 15 * time.Minute, true, 15 * time.Minute},
		"no Date header: taken as given": {10 * time.Minute, time.Hour, false, 70 * time.Minute},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			srv := fakeTokenServer(t, tt.skew, tt.lifetime, tt.sendDate)
			c, err := NewClient(&rest.Config{Host: srv.URL}, "test", nil)
			if err != nil {
				t.Fatal(err)
			}
			tok, err := c.Mint(t.Context(), Request{Namespace: "ci", Name: "deployer", Duration: time.Hour})
			if err != nil {
				t.Fatal(err)
			}
			got := tok.Expiry.Sub(tok.Issued)
			if d := got - tt.want; d < -3*time.Second || d > 3*time.Second {
				t.Errorf("local lifetime = %v, want %v", got, tt.want)
			}
		})
	}
}
