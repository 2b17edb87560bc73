package notify

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/latchkey/latchkey/impl/store"
)

// Webhook request headers.
const (
	// HeaderSignature is "sha256=<hex HMAC-SHA256(secret, timestamp + "." + body)>".
	HeaderSignature = "X-Latchkey-Signature"
	// HeaderTimestamp is the Unix time (seconds) the request was signed at;
	// receivers should refuse old ones.
	HeaderTimestamp = "X-Latchkey-Timestamp"
	// HeaderMessageID repeats the message id: delivery is at least once, so
	// receivers drop repeats by it.
	HeaderMessageID = "X-Latchkey-Message-Id"
)

// WebhookConfig configures SMS delivery through an HTTP gateway.
type WebhookConfig struct {
	URL    string
	Secret string // HMAC-SHA256 key of the signature header
	// Timeout bounds one request; default 10 s.
	Timeout time.Duration
	// Client overrides the HTTP client (tests).
	Client *http.Client
}

// WebhookPayload is the JSON body of a webhook request.
type WebhookPayload struct {
	ID        string `json:"id"`
	Channel   string `json:"channel"`
	To        string `json:"to"`
	Message   string `json:"message"`
	Code      string `json:"code,omitempty"`
	DomainID  string `json:"domain_id"`
	UserID    string `json:"user_id"`
	CreatedAt string `json:"created_at"`
	ExpiresAt string `json:"expires_at,omitempty"`
}

// Webhook posts messages to an HTTP endpoint.
type Webhook struct {
	cfg    WebhookConfig
	client *http.Client
}

// NewWebhook returns a webhook notifier.
func NewWebhook(cfg WebhookConfig) *Webhook {
	if cfg.Timeout <= 0 {
		cfg.Timeout = 10 * time.Second
	}
	c := cfg.Client
	if c == nil {
		c = &http.Client{
			Timeout: cfg.Timeout,
			// A redirect of a POST is a misconfiguration, not a delivery.
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		}
	}
	return &Webhook{cfg: cfg, client: c}
}

// Sign returns the signature header value of body signed at ts.
func Sign(secret string, ts int64, body []byte) string {
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write([]byte(strconv.FormatInt(ts, 10)))
	mac.Write([]byte("."))
	mac.Write(body)
	return "sha256=" + hex.EncodeToString(mac.Sum(nil))
}

func wire(us int64) string {
	return time.UnixMicro(us).UTC().Format("2006-01-02T15:04:05.000000Z")
}

// Deliver posts m. 2xx is delivered; 408, 429, 5xx and transport errors are
// retried; any other status is permanent.
func (w *Webhook) Deliver(ctx context.Context, m *store.OutboxMessage) error {
	p := WebhookPayload{ID: m.ID, Channel: m.Channel, To: m.Recipient, Message: m.Body, Code: m.Code,
		DomainID: m.DomainID, UserID: m.UserID, CreatedAt: wire(m.CreatedAt)}
	if m.ExpiresAt > 0 {
		p.ExpiresAt = wire(m.ExpiresAt)
	}
	body, err := json.Marshal(p)
	if err != nil {
		return Permanent(fmt.Errorf("webhook: encode: %w", err))
	}
	ts := time.Now().Unix()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, w.cfg.URL, bytes.NewReader(body))
	if err != nil {
		return Permanent(fmt.Errorf("webhook: build request: %w", err))
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "latchkey-notify")
	req.Header.Set(HeaderTimestamp, strconv.FormatInt(ts, 10))
	req.Header.Set(HeaderSignature, Sign(w.cfg.Secret, ts, body))
	req.Header.Set(HeaderMessageID, m.ID)
	res, err := w.client.Do(req)
	if err != nil {
		// Without the URL, which may carry a gateway key in its query.
		var ue *url.Error
		if errors.As(err, &ue) {
			if ue.Timeout() {
				return errors.New("webhook: request timed out")
			}
			err = ue.Err
		}
		return fmt.Errorf("webhook: %w", err)
	}
	// The answer is not read beyond a little (keep-alive), and never logged.
	_, _ = io.Copy(io.Discard, io.LimitReader(res.Body, 4096))
	_ = res.Body.Close()
	switch {
	case res.StatusCode >= 200 && res.StatusCode < 300:
		return nil
	case res.StatusCode == http.StatusRequestTimeout, res.StatusCode == http.StatusTooManyRequests, res.StatusCode >= 500:
		return fmt.Errorf("webhook: answered %d", res.StatusCode)
	case res.StatusCode >= 300 && res.StatusCode < 400:
		return fmt.Errorf("webhook: answered %d (redirects are not followed)", res.StatusCode)
	default:
		return Permanent(fmt.Errorf("webhook: answered %d", res.StatusCode))
	}
}
