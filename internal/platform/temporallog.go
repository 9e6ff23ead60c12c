package platform

import (
	"fmt"

	"go.temporal.io/sdk/log"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
)

// temporalLogger adapts zap to the Temporal SDK's logger, so SDK, workflow and
// activity logs come out as the same structured lines as everything else.
type temporalLogger struct {
	z        *zap.Logger
	expected ExpectedActivityError // nil: every activity error is an ERROR
}

// ExpectedActivityError says whether an activity's error is an expected
// one — a refusal that stops one link, which shows why, rather than a fault
// — and what its log line should add (the link). workflowID is the
// activity's workflow. The SDK logs every activity error at ERROR ("Activity
// error."); an expected one is written at WARN instead, so that ERROR keeps
// meaning something is wrong with O2O or its setup.
type ExpectedActivityError func(workflowID string, err error) (fields []zap.Field, expected bool)

// sdkActivityError is the message of the SDK's line for an activity that
// returned an error (go.temporal.io/sdk internal/internal_task_handlers.go),
// with its keys for the workflow id and the error.
const (
	sdkActivityError = "Activity error."
	sdkWorkflowIDKey = "WorkflowID"
	sdkErrorKey      = "Error"
)

// NewTemporalLogger wraps z for client.Options.Logger. expected, when not
// nil, picks the activity errors logged at WARN (ExpectedActivityError).
func NewTemporalLogger(z *zap.Logger, expected ExpectedActivityError) log.Logger {
	return &temporalLogger{z: z.WithOptions(zap.AddCallerSkip(2)), expected: expected} // Debug/Info/... and log
}

func (l *temporalLogger) fields(keyvals []any) []zap.Field {
	fields := make([]zap.Field, 0, len(keyvals)/2)
	for i := 0; i < len(keyvals); i += 2 {
		key := fmt.Sprint(keyvals[i])
		if i+1 == len(keyvals) {
			fields = append(fields, zap.Any("_extra", keyvals[i]))
			break
		}
		fields = append(fields, zap.Any(key, keyvals[i+1]))
	}
	return fields
}

// log checks the level before converting keyvals: the SDK logs several debug
// lines per workflow and activity task, and building their fields only to
// have zap drop them was a measurable part of a worker's per-event CPU.
func (l *temporalLogger) log(lvl zapcore.Level, msg string, keyvals []any, extra ...zap.Field) {
	if ce := l.z.Check(lvl, msg); ce != nil {
		ce.Write(append(l.fields(keyvals), extra...)...)
	}
}

func (l *temporalLogger) Debug(msg string, keyvals ...any) { l.log(zapcore.DebugLevel, msg, keyvals) }
func (l *temporalLogger) Info(msg string, keyvals ...any)  { l.log(zapcore.InfoLevel, msg, keyvals) }
func (l *temporalLogger) Warn(msg string, keyvals ...any)  { l.log(zapcore.WarnLevel, msg, keyvals) }
func (l *temporalLogger) Error(msg string, keyvals ...any) {
	if msg == sdkActivityError && l.expected != nil {
		if extra, ok := l.expectedActivityError(keyvals); ok {
			l.log(zapcore.WarnLevel, msg, keyvals, extra...)
			return
		}
	}
	l.log(zapcore.ErrorLevel, msg, keyvals)
}

// expectedActivityError asks l.expected about the SDK's activity error line.
func (l *temporalLogger) expectedActivityError(keyvals []any) ([]zap.Field, bool) {
	var workflowID string
	var err error
	for i := 0; i+1 < len(keyvals); i += 2 {
		switch keyvals[i] {
		case sdkWorkflowIDKey:
			workflowID, _ = keyvals[i+1].(string)
		case sdkErrorKey:
			err, _ = keyvals[i+1].(error)
		}
	}
	if err == nil {
		return nil, false
	}
	return l.expected(workflowID, err)
}

// With implements log.WithLogger.
func (l *temporalLogger) With(keyvals ...any) log.Logger {
	return &temporalLogger{z: l.z.With(l.fields(keyvals)...), expected: l.expected}
}

// WithCallerSkip implements log.WithSkipCallers.
func (l *temporalLogger) WithCallerSkip(depth int) log.Logger {
	return &temporalLogger{z: l.z.WithOptions(zap.AddCallerSkip(depth)), expected: l.expected}
}
