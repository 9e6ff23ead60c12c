package codec_test

import (
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
	commonpb "go.temporal.io/api/common/v1"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/temporal"

	"github.com/o2o-sync/o2o/codec"
	"github.com/o2o-sync/o2o/lifecycle"
)

func key(t *testing.T, id string) codec.Key {
	t.Helper()
	k := codec.Key{ID: id, Secret: make([]byte, 32)}
	_, err := rand.Read(k.Secret)
	require.NoError(t, err)
	return k
}

func spec(keys ...codec.Key) string {
	var b bytes.Buffer
	for _, k := range keys {
		b.WriteString(k.ID + ":" + base64.StdEncoding.EncodeToString(k.Secret) + " ")
	}
	return b.String()
}

func mustNew(t *testing.T, keys ...codec.Key) *codec.Codec {
	t.Helper()
	c, err := codec.New(keys...)
	require.NoError(t, err)
	return c
}

// A job's personal data, as a workflow input would carry it.
type jobData struct {
	ContactRef  string
	Description string
	Note        string
}

var personal = jobData{ContactRef: "CON-001", Description: "Dripping tap at Flat 2", Note: "Call Mrs Example on 07700 900123"}

func TestRoundTripHidesTheContent(t *testing.T) {
	dc := codec.DataConverter(mustNew(t, key(t, "k1")))
	p, err := dc.ToPayload(personal)
	require.NoError(t, err)

	require.Equal(t, codec.EncodingEncrypted, string(p.Metadata[converter.MetadataEncoding]))
	require.Equal(t, "k1", string(p.Metadata[codec.MetadataKeyID]))
	raw, err := p.Marshal()
	require.NoError(t, err)
	for _, s := range []string{"CON-001", "Dripping tap", "07700", "json/plain"} {
		require.NotContains(t, string(raw), s, "the stored payload shows %q", s)
	}

	var got jobData
	require.NoError(t, dc.FromPayload(p, &got))
	require.Equal(t, personal, got)

	// Every value type the SDK carries, through Payloads too.
	ps, err := dc.ToPayloads("a string", 42, []string{"x"}, nil)
	require.NoError(t, err)
	var (
		s    string
		n    int
		list []string
		none *jobData
	)
	require.NoError(t, dc.FromPayloads(ps, &s, &n, &list, &none))
	require.Equal(t, "a string", s)
	require.Equal(t, 42, n)
	require.Equal(t, []string{"x"}, list)
	require.Nil(t, none)
}

func TestEachPayloadHasItsOwnNonce(t *testing.T) {
	dc := codec.DataConverter(mustNew(t, key(t, "k1")))
	a, err := dc.ToPayload(personal)
	require.NoError(t, err)
	b, err := dc.ToPayload(personal)
	require.NoError(t, err)
	require.NotEqual(t, a.Data, b.Data, "the same value must not encrypt to the same bytes")
}

// Rotation: payloads written under key 1 still decode once key 2 encrypts,
// and only key 2 is used for new payloads.
func TestRotation(t *testing.T) {
	k1, k2 := key(t, "2026-01"), key(t, "2026-06")
	before := codec.DataConverter(mustNew(t, k1))
	old, err := before.ToPayload(personal)
	require.NoError(t, err)

	// Step 1: every process learns k2, k1 still encrypts.
	step1 := codec.DataConverter(mustNew(t, k1, k2))
	// Step 2: k2 encrypts, k1 still decrypts.
	step2 := codec.DataConverter(mustNew(t, k2, k1))
	fresh, err := step2.ToPayload(personal)
	require.NoError(t, err)
	require.Equal(t, "2026-06", string(fresh.Metadata[codec.MetadataKeyID]))

	for name, dc := range map[string]converter.DataConverter{"step 1": step1, "step 2": step2} {
		var got jobData
		require.NoError(t, dc.FromPayload(old, &got), name)
		require.Equal(t, personal, got, name)
	}
	// A process still at step 1 reads what step 2 writes: why rotation is two restarts.
	var got jobData
	require.NoError(t, step1.FromPayload(fresh, &got))
	require.Equal(t, personal, got)

	// Step 3, too early: k1 removed while payloads under it remain.
	after := codec.DataConverter(mustNew(t, k2))
	err = after.FromPayload(old, &got)
	require.ErrorIs(t, err, codec.ErrUnknownKey)
	require.ErrorContains(t, err, `encrypted with key "2026-01", which is not among this process's keys (2026-06)`)
}

func TestUnknownKeyIsNamed(t *testing.T) {
	p, err := codec.DataConverter(mustNew(t, key(t, "retired-key"))).ToPayload(personal)
	require.NoError(t, err)
	var got jobData

	err = codec.DataConverter(mustNew(t, key(t, "current"))).FromPayload(p, &got)
	require.ErrorIs(t, err, codec.ErrUnknownKey)
	require.ErrorContains(t, err, `"retired-key"`)
	// Inside a worker it fails the workflow task (retried until the key is
	// back), never the workflow.
	var taskFailure *converter.WorkflowTaskFailureError
	require.ErrorAs(t, err, &taskFailure)

	// A process with no keys at all says so, instead of "no converter for binary/encrypted".
	err = codec.DataConverter(mustNew(t)).FromPayload(p, &got)
	require.ErrorIs(t, err, codec.ErrUnknownKey)
	require.ErrorContains(t, err, `encrypted with key "retired-key", and this process has no payload keys (set O2O_PAYLOAD_KEYS)`)
}

// Payloads written before encryption was switched on decode as they are.
func TestUnencryptedPayloadsPassThrough(t *testing.T) {
	plain, err := converter.GetDefaultDataConverter().ToPayload(personal)
	require.NoError(t, err)
	c := mustNew(t, key(t, "k1"))
	out, err := c.Decode([]*commonpb.Payload{plain})
	require.NoError(t, err)
	require.Same(t, plain, out[0], "passed through untouched")

	var got jobData
	require.NoError(t, codec.DataConverter(c).FromPayload(plain, &got))
	require.Equal(t, personal, got)

	// A codec without keys writes plain payloads.
	noKeys := mustNew(t)
	require.False(t, noKeys.Encrypts())
	p, err := codec.DataConverter(noKeys).ToPayload(personal)
	require.NoError(t, err)
	require.Equal(t, "json/plain", string(p.Metadata[converter.MetadataEncoding]))
}

func TestTamperingIsDetected(t *testing.T) {
	k1, k2 := key(t, "k1"), key(t, "k2")
	c := mustNew(t, k1, k2)
	enc, err := c.Encode([]*commonpb.Payload{{Metadata: map[string][]byte{"encoding": []byte("json/plain")}, Data: []byte(`"CON-001"`)}})
	require.NoError(t, err)
	p := enc[0]

	flipped := &commonpb.Payload{Metadata: p.Metadata, Data: bytes.Clone(p.Data)}
	flipped.Data[len(flipped.Data)-5] ^= 1
	_, err = c.Decode([]*commonpb.Payload{flipped})
	require.ErrorContains(t, err, `decrypt payload (key "k1"): it was altered`)

	// Relabelled with the other key's id: the key id is authenticated too.
	relabelled := &commonpb.Payload{Metadata: map[string][]byte{"encoding": []byte(codec.EncodingEncrypted), codec.MetadataKeyID: []byte("k2")}, Data: p.Data}
	_, err = c.Decode([]*commonpb.Payload{relabelled})
	require.ErrorContains(t, err, `decrypt payload (key "k2")`)

	short := &commonpb.Payload{Metadata: p.Metadata, Data: p.Data[:10]}
	_, err = c.Decode([]*commonpb.Payload{short})
	require.ErrorContains(t, err, "too short")

	noID := &commonpb.Payload{Metadata: map[string][]byte{"encoding": []byte(codec.EncodingEncrypted)}, Data: p.Data}
	_, err = c.Decode([]*commonpb.Payload{noID})
	require.ErrorContains(t, err, "names no key")
}

func TestFailuresAreEncrypted(t *testing.T) {
	dc := codec.DataConverter(mustNew(t, key(t, "k1")))
	fc := codec.FailureConverter(dc)
	f := fc.ErrorToFailure(temporal.NewNonRetryableApplicationError("contact Mrs Example (CON-001) refused", "Refused", nil))
	raw, err := f.Marshal()
	require.NoError(t, err)
	require.NotContains(t, string(raw), "CON-001")
	require.NotContains(t, string(raw), "Mrs Example")

	back := fc.FailureToError(f)
	var app *temporal.ApplicationError
	require.True(t, errors.As(back, &app))
	require.Equal(t, "Refused", app.Type())
	require.Contains(t, back.Error(), "contact Mrs Example (CON-001) refused")
}

// An operator action's refusal is one.
var _ codec.PlainText = lifecycle.Refusal("")

// refusal stands for lifecycle.Refusal: an error that says it holds no
// personal data.
type refusal string

func (r refusal) Error() string { return string(r) }
func (refusal) PlainText()      {}

func TestAPlainTextErrorStaysReadable(t *testing.T) {
	fc := codec.FailureConverter(codec.DataConverter(mustNew(t, key(t, "k1"))))
	f := fc.ErrorToFailure(fmt.Errorf("update refused: %w", refusal("link is Linked, not NeedsAttention: nothing to retry")))
	require.Equal(t, "update refused: link is Linked, not NeedsAttention: nothing to retry", f.GetMessage(),
		"what the Web UI's update dialog shows, which cannot decode")
	require.Contains(t, fc.FailureToError(f).Error(), "nothing to retry")

	// Anything else is still encrypted.
	f = fc.ErrorToFailure(errors.New("contact Mrs Example refused"))
	require.NotContains(t, f.GetMessage(), "Mrs Example")
}

func TestParseKeys(t *testing.T) {
	k1, k2 := key(t, "2026-06"), key(t, "2026-01")
	keys, err := codec.ParseKeys(spec(k1, k2))
	require.NoError(t, err)
	require.Equal(t, []codec.Key{k1, k2}, keys)

	keys, err = codec.ParseKeys("  ")
	require.NoError(t, err)
	require.Empty(t, keys)

	secret := base64.StdEncoding.EncodeToString(k1.Secret)
	for in, want := range map[string]string{
		secret:                         "key 1 is not id:base64-key",
		"bad id:" + secret:             "key 1 is not id:base64-key", // a space splits it
		"a/b:" + secret:                "key 1: id must be",
		"k:" + secret + " k:" + secret: `key id "k" is given twice`,
		"k:not-base64!":                `key "k" is not standard base64`,
		"k:" + secret[:21]:             `key "k" is not standard base64`, // cut mid-quantum
		"k:" + base64.StdEncoding.EncodeToString([]byte("sixteen byte key")): `key "k" is 16 bytes; AES-256 needs 32`,
	} {
		_, err := codec.ParseKeys(in)
		require.ErrorContains(t, err, want, in)
		require.NotContains(t, err.Error(), secret, "an error must not quote a key")
	}
}

func TestFromEnv(t *testing.T) {
	k := key(t, "k1")
	env := func(m map[string]string) func(string) string { return func(n string) string { return m[n] } }

	c, err := codec.FromEnv(env(map[string]string{codec.EnvKeys: spec(k)}))
	require.NoError(t, err)
	require.Equal(t, "k1", c.ActiveKeyID())

	path := filepath.Join(t.TempDir(), "keys")
	require.NoError(t, os.WriteFile(path, []byte(spec(k)+"\n"), 0o600))
	c, err = codec.FromEnv(env(map[string]string{codec.EnvKeys + "_FILE": path}))
	require.NoError(t, err)
	require.Equal(t, []string{"k1"}, c.KeyIDs())

	_, err = codec.FromEnv(env(map[string]string{codec.EnvKeys: spec(k), codec.EnvKeys + "_FILE": path}))
	require.ErrorContains(t, err, "both O2O_PAYLOAD_KEYS and O2O_PAYLOAD_KEYS_FILE are set")

	c, err = codec.FromEnv(env(nil))
	require.NoError(t, err)
	require.False(t, c.Encrypts())
}
