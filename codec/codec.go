// Package codec encrypts the payloads O2O writes to Temporal (workflow
// inputs, signals, updates, activity inputs and results, query answers,
// memos, summaries, the state carried across continue-as-new) with AES-256-GCM,
// so that Temporal's database — Temporal Cloud's, or a shared cluster's —
// never holds the personal data jobs carry in plain text.
//
// Keys are named: each encrypted payload records the id of the key that
// encrypted it. The first configured key encrypts; every configured key
// decrypts, so keys rotate without downtime (docs/configuration.md). A
// payload that is not encrypted (written before encryption was switched on)
// is passed through as it is, so a running deployment can switch it on.
//
// The same codec serves Temporal's codec-server protocol for the Web UI and
// the CLI (the webhook server's /codec/encode and /codec/decode).
package codec

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"

	commonpb "go.temporal.io/api/common/v1"
	failurepb "go.temporal.io/api/failure/v1"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"
	"google.golang.org/protobuf/proto"

	"github.com/o2o-sync/o2o/internal/secretenv"
)

// EnvKeys is the variable holding the payload keys (or, as EnvKeys_FILE, the
// file holding them): space-separated id:key pairs, the encrypting key
// first, each key 32 bytes in standard base64 (openssl rand -base64 32).
const EnvKeys = "O2O_PAYLOAD_KEYS"

const (
	// EncodingEncrypted is the metadata encoding of an encrypted payload:
	// the name Temporal's samples and tools use for it.
	EncodingEncrypted = "binary/encrypted"
	// MetadataKeyID names the key an encrypted payload was encrypted with.
	MetadataKeyID = "encryption-key-id"
)

// keySize is AES-256's key length.
const keySize = 32

var idRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$`)

// Key is one named AES-256 key.
type Key struct {
	ID     string
	Secret []byte
}

// ParseKeys reads keys in EnvKeys's form: "id:base64 id:base64 ...", the
// encrypting key first. Errors name the key by its id or position, never
// quote a secret.
func ParseKeys(s string) ([]Key, error) {
	var keys []Key
	seen := map[string]bool{}
	for i, f := range strings.Fields(s) {
		id, b64, ok := strings.Cut(f, ":")
		if !ok {
			return nil, fmt.Errorf("key %d is not id:base64-key", i+1)
		}
		if !idRE.MatchString(id) {
			return nil, fmt.Errorf("key %d: id must be letters, digits, '.', '_' and '-' (at most 64), like 2026-05", i+1)
		}
		if seen[id] {
			return nil, fmt.Errorf("key id %q is given twice", id)
		}
		seen[id] = true
		secret, err := base64.StdEncoding.DecodeString(b64)
		if err != nil {
			return nil, fmt.Errorf("key %q is not standard base64", id)
		}
		if len(secret) != keySize {
			return nil, fmt.Errorf("key %q is %d bytes; AES-256 needs %d (openssl rand -base64 32)", id, len(secret), keySize)
		}
		keys = append(keys, Key{ID: id, Secret: secret})
	}
	return keys, nil
}

// Codec is a converter.PayloadCodec that encrypts with the first of its keys
// and decrypts with any of them. A Codec without keys encrypts nothing, but
// still reports an encrypted payload clearly instead of letting the payload
// converter fail on an encoding it does not know.
type Codec struct {
	active string
	aeads  map[string]cipher.AEAD
	ids    []string
}

// New makes a codec of keys, the first of which encrypts. No keys: a codec
// that encrypts nothing.
func New(keys ...Key) (*Codec, error) {
	c := &Codec{aeads: map[string]cipher.AEAD{}}
	for _, k := range keys {
		if !idRE.MatchString(k.ID) {
			return nil, fmt.Errorf("key id %q: letters, digits, '.', '_' and '-' only", k.ID)
		}
		if _, dup := c.aeads[k.ID]; dup {
			return nil, fmt.Errorf("key id %q is given twice", k.ID)
		}
		if len(k.Secret) != keySize {
			return nil, fmt.Errorf("key %q is %d bytes; AES-256 needs %d", k.ID, len(k.Secret), keySize)
		}
		block, err := aes.NewCipher(k.Secret)
		if err != nil {
			return nil, fmt.Errorf("key %q: %w", k.ID, err)
		}
		aead, err := cipher.NewGCM(block)
		if err != nil {
			return nil, fmt.Errorf("key %q: %w", k.ID, err)
		}
		c.aeads[k.ID] = aead
		c.ids = append(c.ids, k.ID)
	}
	if len(keys) > 0 {
		c.active = keys[0].ID
	}
	return c, nil
}

// FromEnv makes the codec of the keys in O2O_PAYLOAD_KEYS or the file
// O2O_PAYLOAD_KEYS_FILE names (getenv is os.Getenv when nil). Neither set:
// a codec that encrypts nothing.
func FromEnv(getenv func(string) string) (*Codec, error) {
	v, err := secretenv.Lookup(getenv, EnvKeys)
	if err != nil {
		return nil, fmt.Errorf("payload keys: %w", err)
	}
	keys, err := ParseKeys(v)
	if err != nil {
		return nil, fmt.Errorf("payload keys (%s): %w", EnvKeys, err)
	}
	return New(keys...)
}

// Encrypts reports whether the codec encrypts (it has a key).
func (c *Codec) Encrypts() bool { return c.active != "" }

// ActiveKeyID is the id of the encrypting key ("" when none).
func (c *Codec) ActiveKeyID() string { return c.active }

// KeyIDs are the ids of every key, the encrypting one first.
func (c *Codec) KeyIDs() []string { return slices.Clone(c.ids) }

// additionalData binds a ciphertext to its key id and to this format, so
// that relabelling a payload with another key id fails authentication.
func additionalData(keyID string) []byte { return []byte("o2o-payload-v1:" + keyID) }

// Encode encrypts each payload with the active key: the whole payload
// (metadata and data) is sealed, so even its encoding is hidden. It never
// encrypts twice.
func (c *Codec) Encode(payloads []*commonpb.Payload) ([]*commonpb.Payload, error) {
	if c.active == "" {
		return payloads, nil
	}
	aead := c.aeads[c.active]
	out := make([]*commonpb.Payload, len(payloads))
	for i, p := range payloads {
		if isEncrypted(p) {
			out[i] = p
			continue
		}
		plain, err := proto.Marshal(p)
		if err != nil {
			return nil, fmt.Errorf("encrypt payload: %w", err)
		}
		nonce := make([]byte, aead.NonceSize(), aead.NonceSize()+len(plain)+aead.Overhead())
		if _, err := rand.Read(nonce); err != nil {
			return nil, fmt.Errorf("encrypt payload: %w", err)
		}
		out[i] = &commonpb.Payload{
			Metadata: map[string][]byte{
				converter.MetadataEncoding: []byte(EncodingEncrypted),
				MetadataKeyID:              []byte(c.active),
			},
			Data: aead.Seal(nonce, nonce, plain, additionalData(c.active)),
		}
	}
	return out, nil
}

// ErrUnknownKey is wrapped by the error for a payload encrypted with a key
// the codec does not hold.
var ErrUnknownKey = errors.New("unknown payload key")

// Decode decrypts each encrypted payload with the key it names; any other
// payload (written before encryption was on) passes through unchanged.
//
// A payload it cannot decrypt fails the workflow task, not the workflow
// (converter.WorkflowTaskFailureError): inside a worker the cause is almost
// always a key taken away too early, and the link must wait, retried and
// visible in the Web UI, until the key is back, rather than end failed.
// Outside a workflow task the error is an ordinary one.
func (c *Codec) Decode(payloads []*commonpb.Payload) ([]*commonpb.Payload, error) {
	out, err := c.decode(payloads)
	if err != nil {
		return nil, converter.NewWorkflowTaskFailureError(err)
	}
	return out, nil
}

func (c *Codec) decode(payloads []*commonpb.Payload) ([]*commonpb.Payload, error) {
	out := make([]*commonpb.Payload, len(payloads))
	for i, p := range payloads {
		if !isEncrypted(p) {
			out[i] = p
			continue
		}
		id := string(p.GetMetadata()[MetadataKeyID])
		aead, ok := c.aeads[id]
		switch {
		case id == "":
			return nil, fmt.Errorf("decrypt payload: it names no key (metadata %s missing)", MetadataKeyID)
		case !ok && len(c.ids) == 0:
			return nil, fmt.Errorf("decrypt payload: it was encrypted with key %q, and this process has no payload keys (set %s): %w", id, EnvKeys, ErrUnknownKey)
		case !ok:
			return nil, fmt.Errorf("decrypt payload: it was encrypted with key %q, which is not among this process's keys (%s): %w", id, strings.Join(c.ids, ", "), ErrUnknownKey)
		}
		data := p.GetData()
		if len(data) < aead.NonceSize()+aead.Overhead() {
			return nil, fmt.Errorf("decrypt payload (key %q): too short to be a ciphertext", id)
		}
		plain, err := aead.Open(nil, data[:aead.NonceSize()], data[aead.NonceSize():], additionalData(id))
		if err != nil {
			return nil, fmt.Errorf("decrypt payload (key %q): it was altered or encrypted with another key of the same id: %w", id, err)
		}
		var dec commonpb.Payload
		if err := proto.Unmarshal(plain, &dec); err != nil {
			return nil, fmt.Errorf("decrypt payload (key %q): %w", id, err)
		}
		out[i] = &dec
	}
	return out, nil
}

func isEncrypted(p *commonpb.Payload) bool {
	return string(p.GetMetadata()[converter.MetadataEncoding]) == EncodingEncrypted
}

// DataConverter is Temporal's default data converter with c applied to
// every payload.
func DataConverter(c *Codec) converter.DataConverter {
	return contextAware{converter.NewCodecDataConverter(converter.GetDefaultDataConverter(), c)}
}

// contextAware gives workflow code a converter that panics on a payload it
// cannot decrypt. The SDK fails the workflow task for most such payloads
// (Decode returns a WorkflowTaskFailureError), but it drops a signal it
// cannot decode as "corrupted" and carries on: a lost event, and on replay
// a link that no longer matches its history. A panic in workflow code
// fails the workflow task instead, which Temporal retries until the key is
// configured again.
type contextAware struct{ converter.DataConverter }

func (c contextAware) WithWorkflowContext(workflow.Context) converter.DataConverter {
	return panicking(c)
}

func (c contextAware) WithContext(context.Context) converter.DataConverter { return c.DataConverter }

type panicking struct{ converter.DataConverter }

func (p panicking) FromPayload(payload *commonpb.Payload, valuePtr any) error {
	return mustDecrypt(p.DataConverter.FromPayload(payload, valuePtr))
}

func (p panicking) FromPayloads(payloads *commonpb.Payloads, valuePtrs ...any) error {
	return mustDecrypt(p.DataConverter.FromPayloads(payloads, valuePtrs...))
}

func mustDecrypt(err error) error {
	var undecryptable *converter.WorkflowTaskFailureError
	if errors.As(err, &undecryptable) {
		panic(err)
	}
	return err
}

// FailureConverter carries failures' messages and stack traces inside an
// encoded payload instead of in plain text: an error from a Oneserve system
// can quote what it refused (a name, a note), and failures are stored in the
// history like payloads. Decoding reads both forms, so failures recorded
// before still read.
//
// An error that says it carries no personal data (PlainText, such as an
// operator action's refusal) stays readable: the Web UI shows it where it
// cannot decode (the update dialog shows "Encoded failure" otherwise).
func FailureConverter(dc converter.DataConverter) converter.FailureConverter {
	return failureConverter{
		FailureConverter: temporal.NewDefaultFailureConverter(temporal.DefaultFailureConverterOptions{
			DataConverter:          dc,
			EncodeCommonAttributes: true,
		}),
		plain: temporal.NewDefaultFailureConverter(temporal.DefaultFailureConverterOptions{DataConverter: dc}),
	}
}

// PlainText is an error whose message holds no personal data, so that it
// may be stored unencrypted (lifecycle.Refusal is one).
type PlainText interface {
	error
	PlainText()
}

type failureConverter struct {
	converter.FailureConverter // encodes; decodes both forms
	plain                      converter.FailureConverter
}

func (f failureConverter) ErrorToFailure(err error) *failurepb.Failure {
	var p PlainText
	if errors.As(err, &p) {
		return f.plain.ErrorToFailure(err)
	}
	return f.FailureConverter.ErrorToFailure(err)
}
