package accesskeys

import (
	"crypto/sha256"
	"encoding/hex"
)

// Projects are not stored: every domain has one pseudo-project per region
// name, so that SDK clients built with a region (GET /v3/projects?name=)
// and basic credentials (X-Project-Id) work. A project id is 32 hex digits:
// 16 derived from the domain and the name, then 16 derived from the domain
// alone, so that the domain of any project id can be checked without a
// table (ProjectInDomain). Ids are deterministic: the same on every instance
// and across restarts.

// ProjectID returns the id of the pseudo-project name of domainID.
func ProjectID(domainID, name string) string {
	a := sha256.Sum256([]byte("latchkey/project\x00" + domainID + "\x00" + name))
	return hex.EncodeToString(a[:8]) + domainTag(domainID)
}

// ProjectInDomain reports whether projectID is a pseudo-project of domainID.
func ProjectInDomain(projectID, domainID string) bool {
	if len(projectID) != 32 {
		return false
	}
	for i := 0; i < 16; i++ {
		c := projectID[i]
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return false
		}
	}
	return projectID[16:] == domainTag(domainID)
}

func domainTag(domainID string) string {
	b := sha256.Sum256([]byte("latchkey/project-domain\x00" + domainID))
	return hex.EncodeToString(b[:8])
}
