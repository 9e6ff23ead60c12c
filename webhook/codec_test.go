package main

import (
	"crypto/rand"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	commonpb "go.temporal.io/api/common/v1"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/mocks"
	"go.uber.org/zap"
	"google.golang.org/protobuf/encoding/protojson"

	"github.com/o2o-sync/o2o/codec"
)

const uiOrigin = "http://localhost:8233"

type codecFixture struct {
	t     *testing.T
	srv   http.Handler
	codec *codec.Codec
}

func newCodecFixture(t *testing.T, uiWithoutToken bool) *codecFixture {
	t.Helper()
	k := codec.Key{ID: "k1", Secret: make([]byte, 32)}
	_, err := rand.Read(k.Secret)
	require.NoError(t, err)
	pc, err := codec.New(k)
	require.NoError(t, err)
	e := newServer(testConfig(t), mocks.NewClient(t), zap.NewNop())
	serveCodec(e, pc, apiToken, []string{uiOrigin}, uiWithoutToken, zap.NewNop())
	return &codecFixture{t: t, srv: e, codec: pc}
}

// call sends a codec request as the Web UI or the CLI would, from addr.
func (f *codecFixture) call(method, op, body string, header map[string]string, addr string) *httptest.ResponseRecorder {
	f.t.Helper()
	req := httptest.NewRequest(method, "/codec/"+op, strings.NewReader(body))
	req.RemoteAddr = addr
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Namespace", "default")
	for k, v := range header {
		req.Header.Set(k, v)
	}
	rec := httptest.NewRecorder()
	f.srv.ServeHTTP(rec, req)
	return rec
}

func payloadsJSON(t *testing.T, values ...any) string {
	t.Helper()
	var ps commonpb.Payloads
	for _, v := range values {
		p, err := converter.GetDefaultDataConverter().ToPayload(v)
		require.NoError(t, err)
		ps.Payloads = append(ps.Payloads, p)
	}
	b, err := protojson.Marshal(&ps)
	require.NoError(t, err)
	return string(b)
}

func readPayloads(t *testing.T, body string) []*commonpb.Payload {
	t.Helper()
	var ps commonpb.Payloads
	require.NoError(t, protojson.Unmarshal([]byte(body), &ps), body)
	return ps.Payloads
}

const remote = "203.0.113.9:51234"

var bearer = map[string]string{"Authorization": "Bearer " + apiToken}

func TestCodecServerNeedsTheOperatorToken(t *testing.T) {
	f := newCodecFixture(t, false)
	body := payloadsJSON(t, "CON-001")
	for name, h := range map[string]map[string]string{
		"no token":      nil,
		"wrong token":   {"Authorization": "Bearer not-the-operator-token"},
		"not a bearer":  {"Authorization": "Basic " + apiToken},
		"token, no key": {"Authorization": "Bearer"},
	} {
		for _, op := range []string{"encode", "decode"} {
			rec := f.call(http.MethodPost, op, body, h, remote)
			require.Equal(t, http.StatusUnauthorized, rec.Code, "%s /%s", name, op)
			require.NotContains(t, rec.Body.String(), "CON-001")
			require.Equal(t, `Bearer realm="o2o"`, rec.Header().Get("WWW-Authenticate"))
		}
	}
	// Even the Web UI's origin needs the token unless the development switch is on.
	rec := f.call(http.MethodPost, "decode", body, map[string]string{"Origin": uiOrigin}, "127.0.0.1:40000")
	require.Equal(t, http.StatusUnauthorized, rec.Code)
}

func TestCodecServerDecodeRoundTripsEncode(t *testing.T) {
	f := newCodecFixture(t, false)
	rec := f.call(http.MethodPost, "encode", payloadsJSON(t, "CON-001", map[string]string{"note": "Tenant on holiday"}), bearer, remote)
	require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
	require.NotContains(t, rec.Body.String(), "CON-001")
	require.NotContains(t, rec.Body.String(), "holiday")
	encoded := readPayloads(t, rec.Body.String())
	require.Len(t, encoded, 2)
	for _, p := range encoded {
		require.Equal(t, codec.EncodingEncrypted, string(p.Metadata["encoding"]))
		require.Equal(t, "k1", string(p.Metadata[codec.MetadataKeyID]))
	}

	b, err := protojson.Marshal(&commonpb.Payloads{Payloads: encoded})
	require.NoError(t, err)
	rec = f.call(http.MethodPost, "decode", string(b), bearer, remote)
	require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
	decoded := readPayloads(t, rec.Body.String())
	var ref string
	var note map[string]string
	require.NoError(t, converter.GetDefaultDataConverter().FromPayload(decoded[0], &ref))
	require.NoError(t, converter.GetDefaultDataConverter().FromPayload(decoded[1], &note))
	require.Equal(t, "CON-001", ref)
	require.Equal(t, map[string]string{"note": "Tenant on holiday"}, note)

	// What the SDK itself wrote decodes the same way.
	p, err := codec.DataConverter(f.codec).ToPayload("Dripping tap")
	require.NoError(t, err)
	b, err = protojson.Marshal(&commonpb.Payloads{Payloads: []*commonpb.Payload{p}})
	require.NoError(t, err)
	rec = f.call(http.MethodPost, "decode", string(b), bearer, remote)
	require.Equal(t, http.StatusOK, rec.Code)
	require.NoError(t, converter.GetDefaultDataConverter().FromPayload(readPayloads(t, rec.Body.String())[0], &ref))
	require.Equal(t, "Dripping tap", ref)
}

func TestCodecServerNamesAnUnknownKey(t *testing.T) {
	f := newCodecFixture(t, false)
	other, err := codec.New(codec.Key{ID: "retired", Secret: make([]byte, 32)})
	require.NoError(t, err)
	p, err := codec.DataConverter(other).ToPayload("x")
	require.NoError(t, err)
	b, err := protojson.Marshal(&commonpb.Payloads{Payloads: []*commonpb.Payload{p}})
	require.NoError(t, err)
	rec := f.call(http.MethodPost, "decode", string(b), bearer, remote)
	require.Equal(t, http.StatusBadRequest, rec.Code)
	require.Contains(t, rec.Body.String(), `encrypted with key "retired"`)

	rec = f.call(http.MethodPost, "decode", "not json", bearer, remote)
	require.Equal(t, http.StatusBadRequest, rec.Code)
}

func TestCodecServerCORS(t *testing.T) {
	f := newCodecFixture(t, false)
	preflight := map[string]string{
		"Origin":                         uiOrigin,
		"Access-Control-Request-Method":  "POST",
		"Access-Control-Request-Headers": "authorization,content-type,x-namespace",
	}
	// The UI's origin: granted, with what the UI sends, without a token
	// (a preflight never carries one).
	for _, op := range []string{"encode", "decode"} {
		rec := f.call(http.MethodOptions, op, "", preflight, remote)
		require.Equal(t, http.StatusNoContent, rec.Code, op)
		h := rec.Header()
		require.Equal(t, uiOrigin, h.Get("Access-Control-Allow-Origin"))
		require.Equal(t, "POST", h.Get("Access-Control-Allow-Methods"))
		for _, want := range []string{"Authorization", "Content-Type", "X-Namespace"} {
			require.Contains(t, h.Get("Access-Control-Allow-Headers"), want)
		}
		require.Equal(t, "true", h.Get("Access-Control-Allow-Credentials"))
		require.Contains(t, h.Values("Vary"), "Origin")
	}
	// The real request from the UI's origin carries the grant too.
	rec := f.call(http.MethodPost, "decode", payloadsJSON(t, "x"), map[string]string{"Origin": uiOrigin, "Authorization": "Bearer " + apiToken}, remote)
	require.Equal(t, http.StatusOK, rec.Code)
	require.Equal(t, uiOrigin, rec.Header().Get("Access-Control-Allow-Origin"))

	// A foreign origin: no grant, and refused even with the token.
	for _, origin := range []string{"https://evil.example", "http://localhost:8234", "null"} {
		preflight["Origin"] = origin
		rec := f.call(http.MethodOptions, "decode", "", preflight, remote)
		require.Equal(t, http.StatusForbidden, rec.Code, origin)
		require.Empty(t, rec.Header().Get("Access-Control-Allow-Origin"), origin)
		require.Empty(t, rec.Header().Get("Access-Control-Allow-Credentials"), origin)

		rec = f.call(http.MethodPost, "decode", payloadsJSON(t, "CON-001"), map[string]string{"Origin": origin, "Authorization": "Bearer " + apiToken}, remote)
		require.Equal(t, http.StatusForbidden, rec.Code, origin)
		require.Empty(t, rec.Header().Get("Access-Control-Allow-Origin"), origin)
		require.NotContains(t, rec.Body.String(), "CON-001")
	}
}

// The development switch (make run): the dev server's Web UI has no login
// and sends no token; its origin may decode over the loopback interface,
// and nothing else changes.
func TestCodecServerDevelopmentUIWithoutToken(t *testing.T) {
	f := newCodecFixture(t, true)
	ui := map[string]string{"Origin": uiOrigin}
	for _, addr := range []string{"127.0.0.1:40000", "[::1]:40000"} {
		rec := f.call(http.MethodPost, "decode", payloadsJSON(t, "x"), ui, addr)
		require.Equal(t, http.StatusOK, rec.Code, addr)
		require.Equal(t, uiOrigin, rec.Header().Get("Access-Control-Allow-Origin"))
	}
	// Not from the loopback interface, not from the UI's origin, or not a browser at all: the token is needed.
	require.Equal(t, http.StatusUnauthorized, f.call(http.MethodPost, "decode", payloadsJSON(t, "x"), ui, remote).Code)
	require.Equal(t, http.StatusUnauthorized, f.call(http.MethodPost, "decode", payloadsJSON(t, "x"), nil, "127.0.0.1:40000").Code)
	require.Equal(t, http.StatusForbidden, f.call(http.MethodPost, "decode", payloadsJSON(t, "x"), map[string]string{"Origin": "https://evil.example"}, "127.0.0.1:40000").Code)
}

func TestCodecServerBoundsTheBody(t *testing.T) {
	f := newCodecFixture(t, false)
	big := `{"payloads":[{"data":"` + strings.Repeat("A", maxCodecBody) + `"}]}`
	rec := f.call(http.MethodPost, "decode", big, bearer, remote)
	require.Equal(t, http.StatusBadRequest, rec.Code)
}

func TestLoopbackListenAddr(t *testing.T) {
	for addr, want := range map[string]bool{
		"127.0.0.1:8080": true, "[::1]:8080": true, "localhost:8080": true,
		":8080": false, "0.0.0.0:8080": false, "10.0.0.5:8080": false, "example.com:8080": false,
	} {
		require.Equal(t, want, loopbackListenAddr(addr), addr)
	}
}

// The codec server's answers are JSON the SDK's remote codec reads.
func TestCodecServerSpeaksTheSDKsRemoteCodec(t *testing.T) {
	f := newCodecFixture(t, false)
	srv := httptest.NewServer(f.srv)
	defer srv.Close()
	remoteCodec := converter.NewRemotePayloadCodec(converter.RemotePayloadCodecOptions{
		Endpoint: srv.URL + "/codec",
		ModifyRequest: func(r *http.Request) error {
			r.Header.Set("Authorization", "Bearer "+apiToken)
			return nil
		},
	})
	dc := converter.NewCodecDataConverter(converter.GetDefaultDataConverter(), remoteCodec)
	p, err := dc.ToPayload(map[string]string{"contactRef": "CON-001"})
	require.NoError(t, err)
	require.Equal(t, codec.EncodingEncrypted, string(p.Metadata["encoding"]))
	var got map[string]string
	require.NoError(t, codec.DataConverter(f.codec).FromPayload(p, &got), "what the codec server encrypts, O2O reads")
	require.Equal(t, "CON-001", got["contactRef"])
	var again map[string]string
	require.NoError(t, dc.FromPayload(p, &again))
	require.Equal(t, got, again)
}
