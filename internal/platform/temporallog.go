package platform

import (
	"fmt"

	"go.temporal.io/sdk/log"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
)

// temporalLogger adapts zap to the Temporal SDK's logger, so SDK, workflow and
// activity logs come out as the same structured lines as everything else.
type temporalLogger struct{ z *zap.Logger }

// NewTemporalLogger wraps z for client.Options.Logger.
func NewTemporalLogger(z *zap.Logger) log.Logger {
	return &temporalLogger{z: z.WithOptions(zap.AddCallerSkip(2))} // Debug/Info/... and log
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
func (l *temporalLogger) log(lvl zapcore.Level, msg string, keyvals []any) {
	if ce := l.z.Check(lvl, msg); ce != nil {
		ce.Write(l.fields(keyvals)...)
	}
}

func (l *temporalLogger) Debug(msg string, keyvals ...any) { l.log(zapcore.DebugLevel, msg, keyvals) }
func (l *temporalLogger) Info(msg string, keyvals ...any)  { l.log(zapcore.InfoLevel, msg, keyvals) }
func (l *temporalLogger) Warn(msg string, keyvals ...any)  { l.log(zapcore.WarnLevel, msg, keyvals) }
func (l *temporalLogger) Error(msg string, keyvals ...any) { l.log(zapcore.ErrorLevel, msg, keyvals) }

// With implements log.WithLogger.
func (l *temporalLogger) With(keyvals ...any) log.Logger {
	return &temporalLogger{z: l.z.With(l.fields(keyvals)...)}
}

// WithCallerSkip implements log.WithSkipCallers.
func (l *temporalLogger) WithCallerSkip(depth int) log.Logger {
	return &temporalLogger{z: l.z.WithOptions(zap.AddCallerSkip(depth))}
}
