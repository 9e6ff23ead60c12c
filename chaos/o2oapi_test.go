package chaos

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/o2o-sync/o2o/lifecycle"
)

// The runner's client speaks the operator API as webhook/server.go answers
// it: the bearer token, the paths, the body, and 404/409 told apart.
func TestO2OClient(t *testing.T) {
	var gotBody lifecycle.OperatorRequest
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer tok" {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		switch r.Method + " " + r.URL.Path {
		case "GET /links/acme-fixit/AC000001":
			_ = json.NewEncoder(w).Encode(lifecycle.LinkState{Link: "acme-fixit", PrimaryJobRef: "AC000001", SecondaryJobRef: "FX000001", State: "Linked"})
		case "POST /links/acme-fixit/AC000001/release":
			_ = json.NewDecoder(r.Body).Decode(&gotBody)
			_, _ = w.Write([]byte(`{"result":"released"}`))
		case "POST /links/acme-fixit/AC000001/resume":
			w.WriteHeader(http.StatusConflict)
			_, _ = w.Write([]byte(`{"error":"the link is not paused"}`))
		default:
			w.WriteHeader(http.StatusNotFound)
			_, _ = w.Write([]byte(`{"error":"no link for this job"}`))
		}
	}))
	defer srv.Close()
	o := &O2O{BaseURL: srv.URL, Token: "tok"}
	ctx := context.Background()

	st, err := o.State(ctx, "acme-fixit", "AC000001")
	if err != nil || st.SecondaryJobRef != "FX000001" || st.State != "Linked" {
		t.Fatalf("State = %+v, %v", st, err)
	}
	if _, err := o.State(ctx, "acme-fixit", "AC000002"); !errors.Is(err, ErrNoLink) {
		t.Errorf("State of an unknown job: %v, want ErrNoLink", err)
	}
	res, err := o.Operate(ctx, "acme-fixit", "AC000001", "release", lifecycle.OperatorRequest{By: "chaos", Reason: "approved by phone", DocumentID: "D1"})
	if err != nil || res != "released" {
		t.Fatalf("Operate = %q, %v", res, err)
	}
	if gotBody.By != "chaos" || gotBody.DocumentID != "D1" || gotBody.Reason == "" {
		t.Errorf("body sent = %+v", gotBody)
	}
	_, err = o.Operate(ctx, "acme-fixit", "AC000001", "resume", lifecycle.OperatorRequest{By: "chaos"})
	var se *StatusError
	if !errors.As(err, &se) || se.Code != http.StatusConflict || se.Message != "the link is not paused" {
		t.Errorf("refused action: %v, want a 409 with the reason", err)
	}
}
