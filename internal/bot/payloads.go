package bot

import ()

// The webhook payloads, reduced to the fields the bot reads. Decoding only
// these keeps a delivery usable when GitHub changes or formats a field the
// bot never looks at: real check_run payloads have carried App timestamps
// as "2018-04-25 20:42:10", which go-github's event types refuse. Every
// field is a value, so a missing or null member reads as its zero value.

// payloadAccount is a user or organization.
type payloadAccount struct {
	Login string `json:"login"`
	// Name is set instead of Login in push payloads' repository owner.
	Name string `json:"name"`
	// Type is "User", "Bot" or "Organization".
	Type string `json:"type"`
}

// payloadRepository is a repository.
type payloadRepository struct {
	ID            int64          `json:"id"`
	Name          string         `json:"name"`
	FullName      string         `json:"full_name"`
	Owner         payloadAccount `json:"owner"`
	CloneURL      string         `json:"clone_url"`
	DefaultBranch string         `json:"default_branch"`
}

// payloadBranch is a pull request's base or head.
type payloadBranch struct {
	Ref  string            `json:"ref"`
	SHA  string            `json:"sha"`
	Repo payloadRepository `json:"repo"`
}

// payloadPullRequest is a pull request, in full (pull_request events) or in
// the short form check runs and suites list.
type payloadPullRequest struct {
	Number int            `json:"number"`
	State  string         `json:"state"`
	Draft  bool           `json:"draft"`
	Merged bool           `json:"merged"`
	Title  string         `json:"title"`
	User   payloadAccount `json:"user"`
	Base   payloadBranch  `json:"base"`
	Head   payloadBranch  `json:"head"`
	Labels []struct {
		Name string `json:"name"`
	} `json:"labels"`
	// MergeCommitSHA is the commit a merge made on the base branch.
	MergeCommitSHA string `json:"merge_commit_sha"`
}

// payloadEnvelope holds the members every App delivery about a repository
// carries.
type payloadEnvelope struct {
	Action       string `json:"action"`
	Installation struct {
		ID int64 `json:"id"`
	} `json:"installation"`
	Repository payloadRepository `json:"repository"`
}

// pullRequestPayload is a pull_request or pull_request_review delivery.
type pullRequestPayload struct {
	payloadEnvelope
	PullRequest payloadPullRequest `json:"pull_request"`
	// Changes lists what an "edited" action changed; only whether the base
	// changed matters.
	Changes struct {
		Base *struct{} `json:"base"`
	} `json:"changes"`
	// Before is, for "synchronize", the head before the push.
	Before string `json:"before"`
}

// checkPayload is a check_run or check_suite delivery.
type checkPayload struct {
	payloadEnvelope
	CheckRun struct {
		Name    string `json:"name"`
		HeadSHA string `json:"head_sha"`
		App     struct {
			ID int64 `json:"id"`
		} `json:"app"`
		PullRequests []payloadPullRequest `json:"pull_requests"`
	} `json:"check_run"`
	CheckSuite struct {
		HeadSHA      string               `json:"head_sha"`
		PullRequests []payloadPullRequest `json:"pull_requests"`
	} `json:"check_suite"`
}

// mergeGroupPayload is a merge_group delivery.
type mergeGroupPayload struct {
	payloadEnvelope
	MergeGroup struct {
		HeadSHA string `json:"head_sha"`
		HeadRef string `json:"head_ref"`
		BaseSHA string `json:"base_sha"`
		BaseRef string `json:"base_ref"`
	} `json:"merge_group"`
}

// pushPayload is a push delivery.
type pushPayload struct {
	payloadEnvelope
	Ref     string `json:"ref"`
	Before  string `json:"before"`
	After   string `json:"after"`
	Deleted bool   `json:"deleted"`
}

// pingPayload is a ping delivery.
type pingPayload struct {
	Zen    string `json:"zen"`
	HookID int64  `json:"hook_id"`
}
