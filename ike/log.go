package ike

// Logger is what the engine logs through: the call shapes of log/slog's
// *slog.Logger (which satisfies it), so the daemon can pass its own small
// logger without ike importing the daemon's packages.
type Logger interface {
	Debug(msg string, args ...any)
	Info(msg string, args ...any)
	Warn(msg string, args ...any)
	Error(msg string, args ...any)
}

// nopLogger discards everything; it is the engine's default.
type nopLogger struct{}

func (nopLogger) Debug(string, ...any) {}
func (nopLogger) Info(string, ...any)  {}
func (nopLogger) Warn(string, ...any)  {}
func (nopLogger) Error(string, ...any) {}
