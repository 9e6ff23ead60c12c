package workflows

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"

	"github.com/o2o-sync/o2o/config"
	"github.com/o2o-sync/o2o/events"
	"github.com/o2o-sync/o2o/lifecycle"
)

// Names that other processes and operators depend on (contract: DESIGN.md §3).
const (
	// TaskQueue is the one task queue O2O's workers poll.
	TaskQueue = "o2o"
	// WorkflowName is the registered name of the LinkedJob workflow.
	WorkflowName = "LinkedJob"
	// SignalEvent delivers one events.Event to a link.
	SignalEvent = "event"
	// QueryLinkState returns the link's LinkState.
	QueryLinkState = "linkState"
)

const idPrefix = "LinkedJob:"

// WorkflowID is the id of the workflow for one link and primary job:
// "LinkedJob:{link}:{primaryJobRef}". Webhook, starter and operators all
// derive it the same way, which makes starting a link idempotent. The id
// holds the canonical job ref (events.CanonicalJobRef), whatever form the
// caller passed, so "ac000005" and " AC000005" name AC000005's link and
// never a second one. A text that is not a job ref is left as it is:
// every entry point refuses it first, and no link holds such an id.
func WorkflowID(link, primaryJobRef string) string {
	if ref, err := events.CanonicalJobRef(primaryJobRef); err == nil {
		primaryJobRef = ref
	}
	return idPrefix + link + ":" + primaryJobRef
}

// ParseWorkflowID splits a LinkedJob workflow id into link and primary job ref.
func ParseWorkflowID(id string) (link, primaryJobRef string, ok bool) {
	rest, found := strings.CutPrefix(id, idPrefix)
	if !found {
		return "", "", false
	}
	link, primaryJobRef, ok = strings.Cut(rest, ":")
	return link, primaryJobRef, ok && link != "" && primaryJobRef != ""
}

// Search attributes (Keyword) that make links findable in the Web UI,
// e.g. O2OState="NeedsAttention". They never carry personal data.
var (
	AttrLink            = temporal.NewSearchAttributeKeyKeyword("O2OLink")
	AttrPrimaryJobRef   = temporal.NewSearchAttributeKeyKeyword("O2OPrimaryJobRef")
	AttrSecondaryJobRef = temporal.NewSearchAttributeKeyKeyword("O2OSecondaryJobRef")
	AttrState           = temporal.NewSearchAttributeKeyKeyword("O2OState")
	// AttrJobRefs (KeywordList) lists the refs the superseded versions of a
	// link's jobs took (variations), next to both jobs' refs; set once a
	// link has such refs, so that their events find the link.
	AttrJobRefs = temporal.NewSearchAttributeKeyKeywordList("O2OJobRefs")
)

// SearchAttributes lists the custom search attributes O2O needs registered.
var SearchAttributes = map[string]enumspb.IndexedValueType{
	AttrLink.GetName():            enumspb.INDEXED_VALUE_TYPE_KEYWORD,
	AttrPrimaryJobRef.GetName():   enumspb.INDEXED_VALUE_TYPE_KEYWORD,
	AttrSecondaryJobRef.GetName(): enumspb.INDEXED_VALUE_TYPE_KEYWORD,
	AttrState.GetName():           enumspb.INDEXED_VALUE_TYPE_KEYWORD,
	AttrJobRefs.GetName():         enumspb.INDEXED_VALUE_TYPE_KEYWORD_LIST,
}

// Delivery outcomes returned by Deliver.
var (
	// ErrNoLink means the event concerns no running link (for example a
	// status change of a job that was never linked).
	ErrNoLink = errors.New("no running link for this job")
	// ErrLinkClosed means the link for this job has finished; it is not revived.
	ErrLinkClosed = errors.New("the link for this job has closed")
)

// Deliver hands one event to the link's workflow and returns once Temporal
// has durably accepted it. With start set (an assignment of the link's team),
// the workflow is started if it does not exist yet (SignalWithStart, atomic);
// otherwise an event for a job without a running link returns ErrNoLink.
// Any other error means Temporal did not take the event and the caller must
// not acknowledge it.
func Deliver(ctx context.Context, c client.Client, l *config.Link, primaryJobRef string, ev events.Event, start bool) error {
	primaryJobRef, err := events.CanonicalJobRef(primaryJobRef)
	if err != nil {
		return fmt.Errorf("deliver to link %s: %w", l.Name, err)
	}
	// A superseded version's ref belongs to the link of the current one:
	// its events go there, and never start a link of their own. The lookup
	// (a visibility query) is made only for an assignment, which could
	// start a link, and for an event that found no link under its ref.
	if !start {
		err = signalLink(ctx, c, l.Name, primaryJobRef, ev)
		// A closed link under the ref may be one that closed itself on
		// learning the ref holds a superseded version: its events are the
		// current ref's link's all the same.
		if !errors.Is(err, ErrNoLink) && !errors.Is(err, ErrLinkClosed) {
			return err
		}
		owner, aerr := aliasOwner(ctx, c, l, primaryJobRef)
		if aerr != nil || owner == "" {
			return cmp.Or(aerr, err)
		}
		return signalLink(ctx, c, l.Name, owner, ev)
	}
	owner, err := aliasOwner(ctx, c, l, primaryJobRef)
	if err != nil {
		return err
	}
	if owner != "" {
		return signalLink(ctx, c, l.Name, owner, ev)
	}
	return startLink(ctx, c, l, primaryJobRef, ev)
}

// signalLink hands an event to a running link; ErrNoLink or ErrLinkClosed
// when it does not run.
func signalLink(ctx context.Context, c client.Client, link, primaryJobRef string, ev events.Event) error {
	err := c.SignalWorkflow(ctx, WorkflowID(link, primaryJobRef), "", SignalEvent, ev)
	var nf *serviceerror.NotFound
	if !errors.As(err, &nf) {
		return err
	}
	// No running workflow: a job never linked, or a link that closed.
	d, err := describeLink(ctx, c, link, primaryJobRef)
	switch {
	case err != nil:
		return err // Temporal cannot say which: the sender retries
	case d.exists:
		return ErrLinkClosed
	}
	return ErrNoLink
}

// startLink starts the link of an assignment (or signals it if it runs).
func startLink(ctx context.Context, c client.Client, l *config.Link, primaryJobRef string, ev events.Event) error {
	id := WorkflowID(l.Name, primaryJobRef)
	opts := client.StartWorkflowOptions{
		ID:        id,
		TaskQueue: TaskQueue,
		// A link that closed on purpose stays closed: a late assignment must
		// not quietly start a second linked job.
		WorkflowIDReusePolicy: enumspb.WORKFLOW_ID_REUSE_POLICY_REJECT_DUPLICATE,
		TypedSearchAttributes: temporal.NewSearchAttributes(
			AttrLink.ValueSet(l.Name),
			AttrPrimaryJobRef.ValueSet(primaryJobRef),
			AttrState.ValueSet(string(lifecycle.StateLinking)),
		),
		StaticSummary: fmt.Sprintf("Link %s: job %s in %s → %s", l.Name, primaryJobRef, l.Primary.System, l.Secondary.System),
		StaticDetails: fmt.Sprintf("**Link** `%s`\n\n**Primary** %s, job `%s`\n\n**Secondary** %s (client %s)\n\nQuery `%s` for the live state.",
			l.Name, l.Primary.System, primaryJobRef, l.Secondary.System, l.Secondary.Client.Name, QueryLinkState),
	}
	_, err := c.SignalWithStartWorkflow(ctx, id, SignalEvent, ev, opts, WorkflowName, Input{Link: l.Name, PrimaryJobRef: primaryJobRef})
	var started *serviceerror.WorkflowExecutionAlreadyStarted
	if errors.As(err, &started) {
		return ErrLinkClosed
	}
	return err
}

// aliasOwner finds the running link (its primary job ref) that lists ref
// among its superseded versions' refs (AttrJobRefs), or "". Only links
// with versions have such refs. ref is canonical (Deliver): it holds no
// quote to break out of the query with.
func aliasOwner(ctx context.Context, c client.Client, l *config.Link, ref string) (string, error) {
	link := l.Name
	if !l.Versions.Enabled {
		return "", nil
	}
	query := fmt.Sprintf("WorkflowType = %q AND ExecutionStatus = 'Running' AND %s = %q AND %s = '%s'",
		WorkflowName, AttrLink.GetName(), link, AttrJobRefs.GetName(), ref)
	owner := ""
	err := openLinks(ctx, c, query, func(primaryJobRef, _ string) {
		if primaryJobRef != ref {
			owner = primaryJobRef
		}
	})
	return owner, err
}

// LinkedSecondaryJobRef reads the secondary job ref that a link's workflow
// has recorded (its O2OSecondaryJobRef search attribute: "" until the
// linked job exists) and whether the workflow is running. It describes the
// workflow, which is strongly consistent, unlike a visibility query: a ref
// recorded a moment ago is seen. A workflow that does not exist gives
// ("", false, nil); any other error is Temporal's.
func LinkedSecondaryJobRef(ctx context.Context, c client.Client, link, primaryJobRef string) (ref string, running bool, err error) {
	l, err := describeLink(ctx, c, link, primaryJobRef)
	return l.secondaryJobRef, l.running, err
}

// linkDescription is what describing a link's workflow tells.
type linkDescription struct {
	exists, running bool
	secondaryJobRef string
}

// describeLink describes a link's workflow (strongly consistent); a
// workflow that does not exist is not an error.
func describeLink(ctx context.Context, c client.Client, link, primaryJobRef string) (linkDescription, error) {
	d, err := c.DescribeWorkflowExecution(ctx, WorkflowID(link, primaryJobRef), "")
	var nf *serviceerror.NotFound
	if errors.As(err, &nf) {
		return linkDescription{}, nil
	}
	if err != nil {
		return linkDescription{}, err
	}
	info := d.GetWorkflowExecutionInfo()
	return linkDescription{exists: true, running: info.GetStatus() == enumspb.WORKFLOW_EXECUTION_STATUS_RUNNING,
		secondaryJobRef: keyword(info.GetSearchAttributes().GetIndexedFields()[AttrSecondaryJobRef.GetName()])}, nil
}

// QueryState asks a link's workflow for its state. It returns ErrNoLink when
// no such workflow exists, and a *events.JobRefError for a text that is not
// a job ref.
func QueryState(ctx context.Context, c client.Client, link, primaryJobRef string) (*lifecycle.LinkState, error) {
	if _, err := events.CanonicalJobRef(primaryJobRef); err != nil {
		return nil, err
	}
	v, err := c.QueryWorkflow(ctx, WorkflowID(link, primaryJobRef), "", QueryLinkState)
	var nf *serviceerror.NotFound
	if errors.As(err, &nf) {
		return nil, ErrNoLink
	}
	if err != nil {
		return nil, err
	}
	var s lifecycle.LinkState
	if err := v.Get(&s); err != nil {
		return nil, fmt.Errorf("decode link state: %w", err)
	}
	return &s, nil
}

// RefusedError is an operator action the link refused, with its reason.
type RefusedError struct{ Reason string }

func (e *RefusedError) Error() string { return "refused: " + e.Reason }

// Operate asks a link to carry out an operator action (lifecycle.Actions) and
// waits for its answer. It returns ErrNoLink when the link does not exist or
// has closed, a *RefusedError when the link refused the action, and a
// *events.JobRefError for a text that is not a job ref.
func Operate(ctx context.Context, c client.Client, link, primaryJobRef, action string, r lifecycle.OperatorRequest) (string, error) {
	if !slices.Contains(lifecycle.Actions, action) {
		return "", &RefusedError{Reason: fmt.Sprintf("unknown action %q (one of %s)", action, strings.Join(lifecycle.Actions, ", "))}
	}
	if _, err := events.CanonicalJobRef(primaryJobRef); err != nil {
		return "", err
	}
	h, err := c.UpdateWorkflow(ctx, client.UpdateWorkflowOptions{
		WorkflowID:   WorkflowID(link, primaryJobRef),
		UpdateName:   action,
		Args:         []any{r},
		WaitForStage: client.WorkflowUpdateStageCompleted,
	})
	var answer string
	if err == nil {
		err = h.Get(ctx, &answer)
	}
	var nf *serviceerror.NotFound
	var app *temporal.ApplicationError
	switch {
	case err == nil:
		return answer, nil
	case errors.As(err, &nf):
		return "", ErrNoLink
	case errors.As(err, &app):
		return "", &RefusedError{Reason: app.Message()}
	}
	return "", err
}
