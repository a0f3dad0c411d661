package githubtest

// buildRoutes lists every emulated endpoint. Routes with a multi-segment
// parameter come after the more specific ones they could shadow.
func (e *Emulator) buildRoutes() []route {
	const repo = "/repos/{owner}/{repo}"
	return []route{
		newRoute("POST", "/app/installations/{installation_id}/access_tokens", authApp, e.handleCreateAccessToken),
		newRoute("GET", "/app/installations", authApp, e.handleListInstallations),
		newRoute("GET", "/app", authApp, e.handleGetApp),
		newRoute("GET", "/installation/repositories", authToken, e.handleListInstallationRepos),
		newRoute("GET", repo+"/installation", authAppOrToken, e.handleRepoInstallation),

		newRoute("GET", repo, authToken, e.handleGetRepo),
		newRoute("GET", repo+"/pulls", authToken, e.handleListPulls),
		newRoute("POST", repo+"/pulls", authToken, e.handleCreatePull),
		newRoute("GET", repo+"/pulls/{pull_number}", authToken, e.handleGetPull),
		newRoute("PATCH", repo+"/pulls/{pull_number}", authToken, e.handleUpdatePull),
		newRoute("PUT", repo+"/pulls/{pull_number}/merge", authToken, e.handleMergePull),
		newRoute("GET", repo+"/pulls/{pull_number}/files", authToken, e.handlePullFiles),
		newRoute("GET", repo+"/pulls/{pull_number}/commits", authToken, e.handlePullCommits),
		newRoute("GET", repo+"/pulls/{pull_number}/reviews", authToken, e.handleListReviews),
		newRoute("POST", repo+"/pulls/{pull_number}/reviews", authToken, e.handleCreateReview),
		newRoute("GET", repo+"/pulls/{pull_number}/reviews/{review_id}", authToken, e.handleGetReview),
		newRoute("PUT", repo+"/pulls/{pull_number}/reviews/{review_id}/dismissals", authToken, e.handleDismissReview),

		newRoute("GET", repo+"/commits/{commit_sha*}/pulls", authToken, e.handleCommitPulls),
		newRoute("GET", repo+"/commits/{ref*}/check-runs", authToken, e.handleListCheckRunsForRef),
		newRoute("GET", repo+"/commits/{ref*}/status", authToken, e.handleCombinedStatus),
		newRoute("GET", repo+"/commits/{ref*}", authToken, e.handleGetCommit),
		newRoute("POST", repo+"/check-runs", authToken, e.handleCreateCheckRun),
		newRoute("GET", repo+"/check-runs/{check_run_id}", authToken, e.handleGetCheckRun),
		newRoute("PATCH", repo+"/check-runs/{check_run_id}", authToken, e.handleUpdateCheckRun),
		newRoute("GET", repo+"/check-runs/{check_run_id}/annotations", authToken, e.handleListCheckRunAnnotations),
		newRoute("POST", repo+"/statuses/{sha}", authToken, e.handleCreateStatus),

		newRoute("GET", "/orgs/{org}/teams/{team_slug}/memberships/{username}", authToken, e.handleTeamMembership),
		newRoute("GET", "/orgs/{org}/teams/{team_slug}/members", authToken, e.handleTeamMembers),
		newRoute("GET", repo+"/collaborators/{username}/permission", authToken, e.handleCollaboratorPermission),
		newRoute("GET", "/orgs/{org}/teams/{team_slug}/invitations", authToken, e.handleTeamInvitations),
		newRoute("GET", "/orgs/{org}/invitations", authToken, e.handleOrgInvitations),
		newRoute("GET", "/orgs/{org}/members/{username}", authToken, e.handleOrgMember),
		newRoute("GET", "/users/{username}", authToken, e.handleGetUser),
		newRoute("GET", "/user", authToken, e.handleGetAuthenticatedUser),

		newRoute("GET", repo+"/contents", authToken, e.handleGetContents),
		newRoute("GET", repo+"/contents/{path*}", authToken, e.handleGetContents),
		newRoute("GET", repo+"/git/ref/{ref*}", authToken, e.handleGetRef),

		newRoute("GET", repo+"/issues", authToken, e.handleListIssues),
		newRoute("POST", repo+"/issues", authToken, e.handleCreateIssue),
		newRoute("GET", repo+"/issues/comments/{comment_id}", authToken, e.handleGetComment),
		newRoute("PATCH", repo+"/issues/comments/{comment_id}", authToken, e.handleUpdateComment),
		newRoute("GET", repo+"/issues/{issue_number}", authToken, e.handleGetIssue),
		newRoute("PATCH", repo+"/issues/{issue_number}", authToken, e.handleUpdateIssue),
		newRoute("GET", repo+"/issues/{issue_number}/labels", authToken, e.handleListLabels),
		newRoute("POST", repo+"/issues/{issue_number}/labels", authToken, e.handleAddLabels),
		newRoute("DELETE", repo+"/issues/{issue_number}/labels/{name}", authToken, e.handleRemoveLabel),
		newRoute("GET", repo+"/issues/{issue_number}/comments", authToken, e.handleListComments),
		newRoute("POST", repo+"/issues/{issue_number}/comments", authToken, e.handleCreateComment),
	}
}
