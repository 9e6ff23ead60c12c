package events_test

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/o2o-sync/o2o/events"
)

// specSign is an independent implementation of the Standard Webhooks v1
// symmetric signature, written from the specification
// (https://github.com/standard-webhooks/standard-webhooks/blob/main/spec/standard-webhooks.md):
//
//	signed content = "{webhook-id}.{webhook-timestamp}.{raw body}"
//	signature      = "v1," + base64(HMAC-SHA256(key, signed content))
//	key            = base64-decoded part of "whsec_<base64>"
//
// It deliberately shares no code with events.Sign.
func specSign(t testing.TB, whsec, id, timestamp string, body []byte) string {
	t.Helper()
	b64, ok := strings.CutPrefix(whsec, "whsec_")
	require.True(t, ok)
	key, err := base64.StdEncoding.DecodeString(b64)
	require.NoError(t, err)
	return specSignKey(key, id, timestamp, body)
}

func specSignKey(key []byte, id, timestamp string, body []byte) string {
	content := []byte(id + "." + timestamp + ".")
	content = append(content, body...)
	m := hmac.New(sha256.New, key)
	m.Write(content)
	return "v1," + base64.StdEncoding.EncodeToString(m.Sum(nil))
}

// The published vector from the Standard Webhooks reference libraries'
// tests (libraries/go/webhook_test.go, TestWebhookSign, in
// github.com/standard-webhooks/standard-webhooks).
const (
	vecSecret    = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
	vecID        = "msg_p5jXN8AQM9LWM0D4loKWxJek"
	vecTimestamp = int64(1614265330)
	vecPayload   = `{"test": 2432232314}`
	vecSignature = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
	// A well-formed but wrong v1 signature used by the same tests.
	vecWrongSignature = "v1,Ceo5qEr07ixe2NLpvHk3FH9bwy/WavXrAFQ/9tdO6mc="
)

func mustSecret(t testing.TB, s string) events.Secret {
	t.Helper()
	sec, err := events.ParseSecret(s)
	require.NoError(t, err)
	return sec
}

func newSecret(t testing.TB, n int) string {
	t.Helper()
	b := make([]byte, n)
	_, err := rand.Read(b)
	require.NoError(t, err)
	return "whsec_" + base64.StdEncoding.EncodeToString(b)
}

func ts(sec int64) string { return strconv.FormatInt(sec, 10) }

func TestPublishedVector(t *testing.T) {
	// First check the independent implementation against the spec's vector...
	require.Equal(t, vecSignature, specSign(t, vecSecret, vecID, ts(vecTimestamp), []byte(vecPayload)))

	// ...then the package against both.
	sec := mustSecret(t, vecSecret)
	assert.Len(t, sec, 24)
	assert.Equal(t, vecSecret, sec.String())
	assert.Equal(t, vecSignature, events.Sign(sec, vecID, time.Unix(vecTimestamp, 0), []byte(vecPayload)))

	at := time.Unix(vecTimestamp, 0)
	require.NoError(t, events.Verify([]events.Secret{sec}, vecID, ts(vecTimestamp), vecSignature, []byte(vecPayload), at))
	assert.ErrorIs(t, events.Verify([]events.Secret{sec}, vecID, ts(vecTimestamp), vecWrongSignature, []byte(vecPayload), at),
		events.ErrBadSignature)
	// The reference tests' multi-signature header: wrong v1, a v2, the valid one, wrong v1.
	multi := strings.Join([]string{vecWrongSignature, "v2," + strings.TrimPrefix(vecWrongSignature, "v1,"), vecSignature, vecWrongSignature}, " ")
	assert.NoError(t, events.Verify([]events.Secret{sec}, vecID, ts(vecTimestamp), multi, []byte(vecPayload), at))
	// Partial signature.
	assert.ErrorIs(t, events.Verify([]events.Secret{sec}, vecID, ts(vecTimestamp), "v1,", []byte(vecPayload), at), events.ErrBadSignature)
	// Signed bytes are the raw body: re-serialised JSON does not verify.
	assert.ErrorIs(t, events.Verify([]events.Secret{sec}, vecID, ts(vecTimestamp), vecSignature, []byte(`{"test":2432232314}`), at),
		events.ErrBadSignature)
}

func TestSignMatchesSpecAndVerifies(t *testing.T) {
	now := time.Unix(1_800_000_000, 0)
	bodies := [][]byte{
		[]byte(exAssigned),
		[]byte(exDocument),
		{},
		[]byte("not json at all \x00\xff\n"),
		[]byte(strings.Repeat("é", 5000)),
	}
	for _, n := range []int{24, 32, 64} {
		whsec := newSecret(t, n)
		sec := mustSecret(t, whsec)
		for i, b := range bodies {
			id := "msg_" + strconv.Itoa(i)
			got := events.Sign(sec, id, now, b)
			require.Equal(t, specSign(t, whsec, id, ts(now.Unix()), b), got, "Sign must follow the spec")
			assert.NoError(t, events.Verify([]events.Secret{sec}, id, ts(now.Unix()), got, b, now))
			// A signature produced independently verifies too.
			assert.NoError(t, events.Verify([]events.Secret{sec}, id, ts(now.Unix()), specSign(t, whsec, id, ts(now.Unix()), b), b, now))
		}
	}
	// Sign ignores sub-second precision, like the header.
	sec := mustSecret(t, vecSecret)
	assert.Equal(t, vecSignature, events.Sign(sec, vecID, time.Unix(vecTimestamp, 999_999_999), []byte(vecPayload)))
}

func TestVerifyRotation(t *testing.T) {
	oldW, newW, otherW := newSecret(t, 32), newSecret(t, 32), newSecret(t, 32)
	oldS, newS, otherS := mustSecret(t, oldW), mustSecret(t, newW), mustSecret(t, otherW)
	now := time.Unix(1_800_000_000, 0)
	id, stamp, b := "msg_rot", ts(now.Unix()), []byte(exStatus)
	sigOld, sigNew := specSign(t, oldW, id, stamp, b), specSign(t, newW, id, stamp, b)

	// The sender signs with both during its rotation.
	both := sigNew + " " + sigOld
	assert.NoError(t, events.Verify([]events.Secret{oldS}, id, stamp, both, b, now), "receiver still on the old secret")
	assert.NoError(t, events.Verify([]events.Secret{newS}, id, stamp, both, b, now), "receiver already on the new secret")
	assert.ErrorIs(t, events.Verify([]events.Secret{otherS}, id, stamp, both, b, now), events.ErrBadSignature)

	// The receiver holds both while the sender switches.
	for _, sig := range []string{sigOld, sigNew} {
		assert.NoError(t, events.Verify([]events.Secret{newS, oldS}, id, stamp, sig, b, now))
		assert.NoError(t, events.Verify([]events.Secret{oldS, newS}, id, stamp, sig, b, now))
	}
	assert.ErrorIs(t, events.Verify([]events.Secret{newS, oldS}, id, stamp, specSign(t, otherW, id, stamp, b), b, now), events.ErrBadSignature)
	assert.ErrorIs(t, events.Verify(nil, id, stamp, sigNew, b, now), events.ErrBadSignature, "no secrets: nothing verifies")

	// The same through ParseSecrets, as the configuration reads them.
	list, err := events.ParseSecrets(newW + " " + oldW)
	require.NoError(t, err)
	assert.NoError(t, events.Verify(list, id, stamp, sigOld, b, now))
}

func TestVerifyTampering(t *testing.T) {
	// A fixed message whose signature's standard base64 contains '+' or
	// '/', so that its URL-safe spelling differs.
	whsec := vecSecret
	sec := []events.Secret{mustSecret(t, whsec)}
	now := time.Unix(1_800_000_000, 0)
	id, stamp, b := "msg_2Lx", ts(now.Unix()), []byte(exDocument)
	sig := specSign(t, whsec, id, stamp, b)
	require.NoError(t, events.Verify(sec, id, stamp, sig, b, now))
	require.True(t, strings.ContainsAny(sig[3:], "+/"), sig)

	flipped := append([]byte(nil), b...)
	flipped[10] ^= 1
	sigBytes, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(sig, "v1,"))
	require.NoError(t, err)
	first := append([]byte(nil), sigBytes...)
	first[0] ^= 0x80
	last := append([]byte(nil), sigBytes...)
	last[len(last)-1] ^= 0x01

	cases := []struct {
		name                 string
		id, stamp, signature string
		body                 []byte
	}{
		{"body byte flipped", id, stamp, sig, flipped},
		{"body extended", id, stamp, sig, append(append([]byte(nil), b...), ' ')},
		{"body truncated", id, stamp, sig, b[:len(b)-1]},
		{"body empty", id, stamp, sig, nil},
		{"id changed", "msg_2Ly", stamp, sig, b},
		{"id extended", id + "x", stamp, sig, b},
		{"timestamp changed by 1s", id, ts(now.Unix() + 1), sig, b},
		{"timestamp with leading zero", id, "0" + stamp, sig, b},
		{"signature first bit flipped", id, stamp, "v1," + base64.StdEncoding.EncodeToString(first), b},
		{"signature last bit flipped", id, stamp, "v1," + base64.StdEncoding.EncodeToString(last), b},
		{"signature truncated to 31 bytes", id, stamp, "v1," + base64.StdEncoding.EncodeToString(sigBytes[:31]), b},
		{"signature extended to 33 bytes", id, stamp, "v1," + base64.StdEncoding.EncodeToString(append(append([]byte(nil), sigBytes...), 0)), b},
		{"signature as v1a", id, stamp, "v1a," + strings.TrimPrefix(sig, "v1,"), b},
		{"signature as v2", id, stamp, "v2," + strings.TrimPrefix(sig, "v1,"), b},
		{"signature upper-case version", id, stamp, "V1," + strings.TrimPrefix(sig, "v1,"), b},
		{"signature without version", id, stamp, strings.TrimPrefix(sig, "v1,"), b},
		{"signature with '=' separator", id, stamp, "v1=" + strings.TrimPrefix(sig, "v1,"), b},
		{"signature URL-safe base64", id, stamp, "v1," + base64.URLEncoding.EncodeToString(sigBytes), b},
		{"signature truncated", id, stamp, sig[:len(sig)-4], b},
		{"signature hex", id, stamp, "v1," + strings.Repeat("ab", 32), b},
		{"id/timestamp swapped", stamp, id, sig, b},
	}
	for _, tc := range cases {
		err := events.Verify(sec, tc.id, tc.stamp, tc.signature, tc.body, now)
		assert.Error(t, err, tc.name)
		if tc.name != "id/timestamp swapped" {
			assert.ErrorIs(t, err, events.ErrBadSignature, tc.name)
		}
	}
}

func TestVerifyTimestampTolerance(t *testing.T) {
	whsec := newSecret(t, 32)
	sec := []events.Secret{mustSecret(t, whsec)}
	const sent = int64(1_800_000_000)
	id, b := "msg_t", []byte(exAssigned)
	sig := specSign(t, whsec, id, ts(sent), b)

	assert.Equal(t, 5*time.Minute, events.Tolerance)
	cases := []struct {
		now  time.Time
		want error
	}{
		{time.Unix(sent, 0), nil},
		{time.Unix(sent+300, 0), nil},                       // 5 min old: still accepted
		{time.Unix(sent+300, 999_999_999), events.ErrStale}, // just over 5 min old
		{time.Unix(sent+301, 0), events.ErrStale},
		{time.Unix(sent+86400, 0), events.ErrStale},
		{time.Unix(sent-300, 0), nil},              // 5 min in the future: accepted
		{time.Unix(sent-300, -1), events.ErrStale}, // just over
		{time.Unix(sent-301, 0), events.ErrStale},
		{time.Unix(sent-86400, 0), events.ErrStale},
	}
	for _, tc := range cases {
		err := events.Verify(sec, id, ts(sent), sig, b, tc.now)
		if tc.want == nil {
			assert.NoError(t, err, "now = sent %+v", tc.now.Sub(time.Unix(sent, 0)))
		} else {
			assert.ErrorIs(t, err, tc.want, "now = sent %+v", tc.now.Sub(time.Unix(sent, 0)))
		}
	}
	// The timestamp is checked before any signature: a stale message with a
	// garbage signature is stale, not "bad signature".
	assert.ErrorIs(t, events.Verify(sec, id, ts(sent), "garbage", b, time.Unix(sent+3600, 0)), events.ErrStale)
	// An old delivery re-signed with a fresh timestamp is fine (retries).
	fresh := sent + 3600
	assert.NoError(t, events.Verify(sec, id, ts(fresh), specSign(t, whsec, id, ts(fresh), b), b, time.Unix(fresh, 0)))
}

func TestVerifyMissingAndMalformedHeaders(t *testing.T) {
	whsec := newSecret(t, 32)
	sec := []events.Secret{mustSecret(t, whsec)}
	now := time.Unix(1_800_000_000, 0)
	id, stamp, b := "msg_h", ts(now.Unix()), []byte(exAssigned)
	sig := specSign(t, whsec, id, stamp, b)

	long := strings.Repeat("i", 257)
	cases := []struct {
		name                 string
		id, stamp, signature string
		want                 error
	}{
		{"no id", "", stamp, sig, events.ErrMissingHeaders},
		{"no timestamp", id, "", sig, events.ErrMissingHeaders},
		{"no signature", id, stamp, "", events.ErrMissingHeaders},
		{"nothing", "", "", "", events.ErrMissingHeaders},
		{"id with a dot", "msg.h", stamp, specSign(t, whsec, "msg.h", stamp, b), events.ErrMissingHeaders},
		{"id too long", long, stamp, specSign(t, whsec, long, stamp, b), events.ErrMissingHeaders},
		{"timestamp not a number", id, "yesterday", sig, events.ErrBadTimestamp},
		{"timestamp with fraction", id, stamp + ".5", sig, events.ErrBadTimestamp},
		{"timestamp in milliseconds", id, stamp + "000", sig, events.ErrStale},
		{"timestamp with space", id, " " + stamp, sig, events.ErrBadTimestamp},
		{"timestamp RFC 3339", id, now.UTC().Format(time.RFC3339), sig, events.ErrBadTimestamp},
		{"signature only spaces", id, stamp, "   ", events.ErrBadSignature},
	}
	for _, tc := range cases {
		assert.ErrorIs(t, events.Verify(sec, tc.id, tc.stamp, tc.signature, b, now), tc.want, tc.name)
	}
	// 256 characters is the limit.
	id256 := strings.Repeat("i", 256)
	assert.NoError(t, events.Verify(sec, id256, stamp, specSign(t, whsec, id256, stamp, b), b, now))
}

func TestVerifyIgnoresOtherEntries(t *testing.T) {
	whsec := newSecret(t, 32)
	sec := []events.Secret{mustSecret(t, whsec)}
	now := time.Unix(1_800_000_000, 0)
	id, stamp, b := "msg_e", ts(now.Unix()), []byte(exStatus)
	sig := specSign(t, whsec, id, stamp, b)
	raw := strings.TrimPrefix(sig, "v1,")
	other := specSign(t, newSecret(t, 32), id, stamp, b)

	for _, header := range []string{
		"v1a,AAAA " + sig,                 // asymmetric entry first
		"v1a," + raw + " " + sig,          // ed25519 slot carrying the HMAC: ignored, v1 still found
		"v2,whatever " + sig + " v3,more", // unknown versions
		"v1,!!!not-base64!!! " + sig,      // garbage base64
		"v1,AAAA " + sig,                  // valid base64, wrong length
		"v1," + raw + "garbage " + sig,    // corrupted copy first
		"v1 " + sig,                       // entry without comma
		other + " " + sig,                 // signature by another key
		"  " + sig + "  ",                 // extra spaces
		other + "\t" + sig,                // tab separated
		strings.Repeat("v1,"+strings.Repeat("A", 43)+"= ", 20) + sig, // many wrong candidates
	} {
		assert.NoError(t, events.Verify(sec, id, stamp, header, b, now), header)
	}
	for _, header := range []string{
		"v1a," + raw,
		"v1,!!!not-base64!!!",
		"v1," + raw + "=",
		"v1,," + raw,
		other,
		"v1," + strings.Repeat("A", 43) + "=",
		raw,
		",",
	} {
		assert.ErrorIs(t, events.Verify(sec, id, stamp, header, b, now), events.ErrBadSignature, header)
	}
}

func TestParseSecret(t *testing.T) {
	for _, n := range []int{24, 32, 48, 64} {
		w := newSecret(t, n)
		s, err := events.ParseSecret(w)
		require.NoError(t, err, n)
		assert.Len(t, s, n)
		assert.Equal(t, w, s.String())
		s2, err := events.ParseSecret("  " + w + "\n")
		require.NoError(t, err, "surrounding space is trimmed")
		assert.Equal(t, s, s2)
	}

	b64 := func(n int) string { return base64.StdEncoding.EncodeToString([]byte(strings.Repeat("k", n))) }
	key32 := base64.StdEncoding.EncodeToString([]byte("Sup3rSecretKeyMaterial-Abcdefgh!"))
	cases := []struct {
		in, want string
		leak     []string
	}{
		{key32, `must start with "whsec_"`, []string{key32}},
		{"WHSEC_" + key32, `must start with "whsec_"`, []string{key32}},
		{"whsk_" + key32, `must start with "whsec_"`, []string{key32}},
		{"", `must start with "whsec_"`, nil},
		{"whsec_", "must decode to 24-64 bytes, not 0", nil},
		{"whsec_" + key32[:len(key32)-1], "is not valid base64 after the whsec_ prefix", []string{key32[:20]}},
		{"whsec_" + strings.ReplaceAll(key32, "=", ""), "is not valid base64 after the whsec_ prefix", []string{key32[:20]}},
		{"whsec_Sup3r$ecret*Key!Material", "is not valid base64 after the whsec_ prefix", []string{"Sup3r$ecret", "Material"}},
		{"whsec_" + strings.ReplaceAll(base64.URLEncoding.EncodeToString([]byte("\xfb\xff\xfe-Sup3rSecretKeyMaterial-Ab")), "=", ""), "is not valid base64 after the whsec_ prefix", []string{"Sup3rSecret"}},
		{"whsec_" + b64(23), "must decode to 24-64 bytes, not 23", []string{b64(23)}},
		{"whsec_" + b64(65), "must decode to 24-64 bytes, not 65", []string{b64(65)}},
		{"whsec_" + b64(1), "must decode to 24-64 bytes, not 1", []string{b64(1)}},
	}
	for _, tc := range cases {
		s, err := events.ParseSecret(tc.in)
		require.Error(t, err, tc.in)
		assert.Nil(t, s)
		assert.Equal(t, tc.want, err.Error(), tc.in)
		for _, l := range tc.leak {
			assert.NotContains(t, err.Error(), l, "the error must not contain the secret")
		}
	}
}

func TestParseSecrets(t *testing.T) {
	a, b, c := newSecret(t, 32), newSecret(t, 24), newSecret(t, 64)
	for _, list := range []string{
		a + " " + b + " " + c,
		a + "," + b + "," + c,
		" " + a + " ,\t" + b + "\n" + c + "\n",
	} {
		got, err := events.ParseSecrets(list)
		require.NoError(t, err, list)
		require.Len(t, got, 3)
		assert.Equal(t, a, got[0].String())
		assert.Equal(t, b, got[1].String())
		assert.Equal(t, c, got[2].String())
	}
	got, err := events.ParseSecrets("")
	require.NoError(t, err)
	assert.Empty(t, got)

	bad := "whsec_" + base64.StdEncoding.EncodeToString([]byte("short-Sekrit"))
	for _, tc := range []struct{ list, want string }{
		{a + " " + bad, "secret 2 must decode to 24-64 bytes, not 12"},
		{bad + " " + a, "secret 1 must decode to 24-64 bytes, not 12"},
		{a + " " + strings.TrimPrefix(b, "whsec_"), `secret 2 must start with "whsec_"`},
		{a + "," + c + ",whsec_***", "secret 3 is not valid base64 after the whsec_ prefix"},
	} {
		got, err := events.ParseSecrets(tc.list)
		require.Error(t, err, tc.want)
		assert.Nil(t, got)
		assert.Equal(t, tc.want, err.Error())
		for _, s := range []string{a, b, c, bad} {
			assert.NotContains(t, err.Error(), strings.TrimPrefix(s, "whsec_"), "the error must not contain a secret")
		}
	}
}
