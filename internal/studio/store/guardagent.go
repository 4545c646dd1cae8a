package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// GuardAgentSettings are a project's settings for guard-agent clients (see package
// guardagent). The zero value requires no signature and decrypts nothing.
type GuardAgentSettings struct {
	// SigningSecret is the secret of X-Payload-Signature (the clients'
	// agent_payload_signing_secret). Empty: none configured.
	SigningSecret string
	// RequireSignature refuses requests without a valid signature (401). With no
	// SigningSecret it refuses everything: it fails closed.
	RequireSignature bool
	// EncryptionKey is the payload encryption key (base64url of 32 bytes, the
	// clients' agent_project_encryption_key); PreviousKey is the one before it,
	// still accepted while clients move to the new one. Empty: none.
	EncryptionKey, PreviousKey string
}

// GuardAgentSettings returns the project's guard-agent settings; the zero value when
// none were set.
func (s *Store) GuardAgentSettings(ctx context.Context, project int64) (GuardAgentSettings, error) {
	var g GuardAgentSettings
	err := s.read.QueryRowContext(ctx, `SELECT signing_secret, require_signature, encryption_key, previous_key
		FROM guard_agent_settings WHERE project_id = $1`, project).
		Scan(&g.SigningSecret, &g.RequireSignature, &g.EncryptionKey, &g.PreviousKey)
	if errors.Is(err, sql.ErrNoRows) {
		return GuardAgentSettings{}, nil
	}
	if err != nil {
		return GuardAgentSettings{}, fmt.Errorf("store: guard-agent settings: %w", err)
	}
	return g, nil
}

// SetGuardAgentSettings replaces the project's guard-agent settings.
func (s *Store) SetGuardAgentSettings(ctx context.Context, project int64, g GuardAgentSettings) error {
	if len(g.SigningSecret) > 1024 || len(g.EncryptionKey) > 256 || len(g.PreviousKey) > 256 {
		return fmt.Errorf("%w: guard-agent secret or key too long", ErrInvalid)
	}
	_, err := s.write.ExecContext(ctx, `INSERT INTO guard_agent_settings
		(project_id, signing_secret, require_signature, encryption_key, previous_key, updated) VALUES ($1, $2, $3, $4, $5, $6)
		ON CONFLICT (project_id) DO UPDATE SET signing_secret = excluded.signing_secret,
		require_signature = excluded.require_signature, encryption_key = excluded.encryption_key,
		previous_key = excluded.previous_key, updated = excluded.updated`,
		project, g.SigningSecret, g.RequireSignature, g.EncryptionKey, g.PreviousKey, nanos(time.Now()))
	if err != nil {
		return fmt.Errorf("store: set guard-agent settings: %w", err)
	}
	return nil
}
