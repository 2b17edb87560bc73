package notify

import (
	"crypto/rand"
	"encoding/hex"
	"log/slog"
)

func quietLog() *slog.Logger { return slog.New(slog.DiscardHandler) }

// randHex returns n random bytes in hex: fresh IDs for test rows.
func randHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
