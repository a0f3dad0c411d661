package evaltest

import (
	"github.com/example-org/promobot/internal/evaluate"
)

// review is a review with an explicit state and commit.
func review(login string, state evaluate.ReviewState, on string) Review {
	return Review{Login: login, State: state, On: on}
}

// lassoToProd promotes the unbundled model to prod: one file, two approvals
// needed from model-risk or release-managers.
func lassoToProd(name string) Scenario {
	s := Sample(name)
	s.Head = Promote("prod", V2, Unbundled)
	return s
}

const prodOwners = "@example-org/model-risk or @example-org/release-managers"

func approvalScenarios() []Scenario {
	var out []Scenario
	add := func(s Scenario, verdict evaluate.Verdict, messages ...string) {
		s.WantVerdict = verdict
		s.WantMessages = append(s.WantMessages, messages...)
		out = append(out, s)
	}

	s := lassoToProd("counting: one of two approvals is not enough")
	s.Reviews = Approve("mara")
	add(s, evaluate.VerdictFail, "FAIL: needs 1 more approval from "+prodOwners+" for environments/prod/lasso-spx.yaml")

	s = lassoToProd("counting: two reviews by one user count once")
	s.Reviews = Approve("mara", "mara")
	add(s, evaluate.VerdictFail, "needs 1 more approval", "approved by: @mara\n")

	s = lassoToProd("counting: both files of a bundle need their approvals")
	s.Head = Promote("prod", V2, Forecaster, Calibrator)
	add(s, evaluate.VerdictFail, "FAIL: needs 2 more approvals from "+prodOwners+" for elasticnet-ndx-threshold and elasticnet-ndx in prod")

	s = lassoToProd("staleness: an approval of an earlier commit does not count")
	s.Reviews = []Review{review("mara", evaluate.Approved, "head"), review("rita", evaluate.Approved, "stale")}
	add(s, evaluate.VerdictFail, "@rita (stale commit)", "needs 1 more approval")

	s = lassoToProd("self-approval: the pull request author cannot approve")
	s.Author = "mara"
	s.Commits = []Commit{{Author: "mara"}}
	s.Reviews = Approve("mara", "rita")
	add(s, evaluate.VerdictFail, "@mara (author)")

	s = lassoToProd("self-approval: a commit author cannot approve")
	s.Commits = []Commit{{Author: "alex"}, {Author: "rob"}}
	s.Reviews = Approve("mara", "rob")
	add(s, evaluate.VerdictFail, "@rob (author)")

	s = lassoToProd("self-approval: a committer cannot approve")
	s.Commits = []Commit{{Author: "alex", Committer: "rita"}}
	s.Reviews = Approve("mara", "rita")
	add(s, evaluate.VerdictFail, "@rita (committer)")

	s = lassoToProd("co-authors: a Co-authored-by trailer excludes the co-author")
	s.Commits = []Commit{{Author: "alex", CoAuthors: []string{"mike"}}}
	s.Reviews = Approve("mara", "mike", "rob")
	add(s, evaluate.VerdictPass, "@mike (co-author)", "approved by: @mara, @rob")

	s = lassoToProd("co-authors: an identity without a login is reported")
	s.Commits = []Commit{{Author: "alex", CoAuthors: []string{"Jane Doe <jane@corp.example>"}}}
	s.Reviews = Approve("mara", "rob")
	add(s, evaluate.VerdictPass, "all rules pass (1 warning)", "commit identities without a GitHub login cannot be excluded from approving: Jane Doe <jane@corp.example> (co-author of ")

	s = lassoToProd("logins compare case-insensitively")
	s.Author = "Mara"
	s.Commits = []Commit{{Author: "Mara"}}
	s.Reviews = Approve("MARA", "Rita", "MIKE")
	add(s, evaluate.VerdictPass, "@MARA (author)", "approved by: @MIKE, @Rita")

	s = lassoToProd("bots never count")
	s.Teams["example-org/release-managers"] = []string{"rita", "release-bot[bot]"}
	s.Reviews = Approve("mara", "release-bot[bot]")
	add(s, evaluate.VerdictFail, "@release-bot[bot] (bot)")

	s = lassoToProd("owners without write access do not count")
	s.NoWrite = []string{"rita"}
	s.Reviews = Approve("mara", "rita")
	add(s, evaluate.VerdictFail, "@rita (no write access)")

	s = lassoToProd("permission data lists the approvers with write access")
	s.NoWrite = []string{"walt"}
	s.Reviews = Approve("mara", "rita")
	add(s, evaluate.VerdictPass, "all rules pass, 2/2 approvals")

	s = lassoToProd("non-owners do not count")
	s.Reviews = Approve("mara", "val", "walt")
	add(s, evaluate.VerdictFail, "@val (not an owner)", "@walt (not an owner)")

	s = lassoToProd("teams: an unresolvable team warns and its members do not count")
	delete(s.Teams, "example-org/release-managers")
	s.Reviews = Approve("mara", "rita")
	add(s, evaluate.VerdictFail, "@example-org/release-managers (team membership unknown)", "@rita (not an owner)",
		"needs 1 more approval from @example-org/model-risk for environments/prod/lasso-spx.yaml")

	s = lassoToProd("teams: the resolvable team's members suffice")
	delete(s.Teams, "example-org/release-managers")
	s.Reviews = Approve("mara", "mike")
	add(s, evaluate.VerdictPass, "all rules pass (1 warning), 2/2 approvals", "unresolvable: @example-org/release-managers")

	s = lassoToProd("teams: inactive members are absent from the lookup")
	s.Teams["example-org/model-risk"] = []string{"mara"}
	s.Reviews = Approve("mara", "mike")
	add(s, evaluate.VerdictFail, "@mike (not an owner)")

	s = lassoToProd("teams: no team can be resolved")
	s.Teams = nil
	s.Reviews = Approve("mara", "rita")
	add(s, evaluate.VerdictFail, "needs 2 more approvals, but none of its owners can be resolved for environments/prod/lasso-spx.yaml")

	s = lassoToProd("email owners are unresolvable and never count")
	s.Base[".github/CODEOWNERS"] = CodeOwners + "/environments/prod/lasso-spx.yaml  mara@example.com @example-org/release-managers\n"
	s.Reviews = Approve("mara", "rita")
	add(s, evaluate.VerdictFail, "mara@example.com (an email owner cannot be resolved to a login)", "@mara (not an owner)",
		"needs 1 more approval from @example-org/release-managers")

	s = lassoToProd("users named in CODEOWNERS count directly")
	s.Base[".github/CODEOWNERS"] = CodeOwners + "/environments/prod/lasso-spx.yaml  @Walt @rita\n"
	s.Reviews = Approve("walt", "rita")
	add(s, evaluate.VerdictPass, "all rules pass, 2/2 approvals")

	s = lassoToProd("unowned: a prod file with no matching line fails closed")
	s.Base[".github/CODEOWNERS"] = Replace(CodeOwners, "/environments/prod/", "/environments/production/")
	s.Reviews = Approve("mara", "rita")
	add(s, evaluate.VerdictFail, "FAIL: environments/prod/lasso-spx.yaml has no owners",
		"has no owners in .github/CODEOWNERS; 2 approvals are needed, so the change fails closed")

	s = lassoToProd("unowned: a matching line without owners makes the file unowned")
	s.Base[".github/CODEOWNERS"] = CodeOwners + "/environments/prod/lasso-*.yaml\n"
	s.Reviews = Approve("mara", "rita")
	add(s, evaluate.VerdictFail, "environments/prod/lasso-spx.yaml has no owners")

	s = lassoToProd("unowned: no CODEOWNERS file at all")
	delete(s.Base, ".github/CODEOWNERS")
	s.Reviews = Approve("mara", "rita")
	add(s, evaluate.VerdictFail, "has no owners in CODEOWNERS (the base branch has none)")

	s = Sample("unowned: an environment needing no approvals passes unowned")
	s.Base[".github/CODEOWNERS"] = Replace(CodeOwners, "/environments/dev/          @example-org/ml-engineers\n", "")
	s.Head = Promote("dev", V4, Unbundled)
	add(s, evaluate.VerdictPass, "no approvals needed for environments/dev/lasso-spx.yaml (it has no owners")

	s = lassoToProd("the last matching CODEOWNERS line wins")
	s.Base[".github/CODEOWNERS"] = CodeOwners + "/environments/prod/lasso-spx.yaml  @example-org/platform-admins\n"
	s.Reviews = Approve("mara", "rita", "pat")
	add(s, evaluate.VerdictFail, "needs 1 more approval from @example-org/platform-admins", "@mara (not an owner)")

	s = lassoToProd("CODEOWNERS is read from the base, not the head")
	s.Head[".github/CODEOWNERS"] = CodeOwners + "/environments/prod/  @walt\n"
	s.Reviews = Approve("walt", "pat", "paula")
	add(s, evaluate.VerdictFail, "@walt (not an owner)", "needs 2 more approvals from "+prodOwners+" for environments/prod/lasso-spx.yaml")

	s = Sample("control files: the policy needs governance approvals")
	s.Head[".github/promobot.yaml"] = Replace(Policy, "approvals: 2\n    requireValidation", "approvals: 0\n    requireValidation")
	s.Reviews = Approve("pat")
	add(s, evaluate.VerdictFail, "needs 1 more approval from @example-org/platform-admins for .github/promobot.yaml",
		"control file: governance approvals")

	s = Sample("control files: the policy with governance approvals passes")
	s.Head[".github/promobot.yaml"] = Policy + "# reviewed\n"
	s.Reviews = Approve("pat", "paula")
	add(s, evaluate.VerdictPass, "all rules pass, 2/2 approvals")

	s = Sample("control files: a head policy never applies to its own pull request")
	s.Head = Promote("prod", V2, Unbundled)
	s.Head[".github/promobot.yaml"] = Replace(Policy, "approvals: 2\n    requireValidation", "approvals: 0\n    requireValidation")
	s.Reviews = Approve("pat", "paula")
	add(s, evaluate.VerdictFail, "needs 2 more approvals from "+prodOwners+" for environments/prod/lasso-spx.yaml")

	s = Sample("control files: schemas need governance approvals")
	s.Head["schemas/model-deployment.schema.json"] = "{}\n"
	s.Reviews = Approve("paula")
	add(s, evaluate.VerdictFail, "needs 1 more approval from @example-org/platform-admins for schemas/model-deployment.schema.json")

	s = Sample("control files: CODEOWNERS in the root needs governance approvals")
	s.Head["CODEOWNERS"] = "* @walt\n"
	s.Reviews = Approve("pat", "paula")
	add(s, evaluate.VerdictPass, "CODEOWNERS: 2/2 (governance, ok)")

	s = Sample("control files: a trusted signing key needs governance approvals")
	s.Head[".github/keys/model-signing.pub"] = "-----BEGIN PUBLIC KEY-----\nrotated\n-----END PUBLIC KEY-----\n"
	add(s, evaluate.VerdictFail, "needs 2 more approvals from @example-org/platform-admins for .github/keys/model-signing.pub")

	s = lassoToProd("changes requested by an owner blocks")
	s.Reviews = append(Approve("mara", "rita"), review("rob", evaluate.ChangesRequested, "stale"))
	add(s, evaluate.VerdictFail, "FAIL: @rob requested changes to environments/prod/lasso-spx.yaml", "@rob (changes requested)")

	s = lassoToProd("changes requested by a non-owner does not block")
	s.Reviews = append(Approve("mara", "rita"), review("erin", evaluate.ChangesRequested, "head"))
	add(s, evaluate.VerdictPass, "@erin (not an owner)")

	s = lassoToProd("a later approval replaces one's own changes request")
	s.Reviews = []Review{review("rob", evaluate.ChangesRequested, "stale"), review("mara", evaluate.Approved, "head"), review("rob", evaluate.Approved, "head")}
	add(s, evaluate.VerdictPass, "approved by: @mara, @rob")

	s = lassoToProd("a later changes request replaces one's approval")
	s.Reviews = []Review{review("rita", evaluate.Approved, "head"), review("mara", evaluate.Approved, "head"), review("rita", evaluate.ChangesRequested, "head")}
	add(s, evaluate.VerdictFail, "@rita requested changes")

	s = lassoToProd("COMMENTED keeps an earlier approval")
	s.Reviews = []Review{review("rita", evaluate.Approved, "head"), review("mara", evaluate.Approved, "head"), review("rita", evaluate.Commented, "head")}
	add(s, evaluate.VerdictPass, "approved by: @mara, @rita")

	s = lassoToProd("COMMENTED on the head does not refresh a stale approval")
	s.Reviews = []Review{review("rita", evaluate.Approved, "stale"), review("mara", evaluate.Approved, "head"), review("rita", evaluate.Commented, "head")}
	add(s, evaluate.VerdictFail, "@rita (stale commit)")

	s = lassoToProd("DISMISSED cancels an approval")
	s.Reviews = []Review{review("rita", evaluate.Approved, "head"), review("mara", evaluate.Approved, "head"), review("rita", evaluate.Dismissed, "head")}
	add(s, evaluate.VerdictFail, "@rita (dismissed)")

	s = Sample("changes requested blocks even where no approval is needed")
	s.Head = Promote("dev", V4, Unbundled)
	s.Reviews = []Review{review("erin", evaluate.ChangesRequested, "head")}
	add(s, evaluate.VerdictFail, "@erin requested changes to environments/dev/lasso-spx.yaml")

	s = lassoToProd("changes requested by the author does not block")
	s.Author = "mike"
	s.Commits = []Commit{{Author: "mike"}}
	s.Reviews = append(Approve("mara", "rita"), review("mike", evaluate.ChangesRequested, "head"))
	add(s, evaluate.VerdictPass, "@mike (author)")

	s = lassoToProd("team names in CODEOWNERS compare case-insensitively")
	s.Base[".github/CODEOWNERS"] = CodeOwners + "/environments/prod/lasso-spx.yaml  @Example-Org/Model-Risk\n"
	s.Reviews = Approve("mara", "mike")
	add(s, evaluate.VerdictPass, "all rules pass, 2/2 approvals")

	s = Sample("other files under an environment need its approvals")
	s.Head["environments/prod/README.md"] = "Prod notes.\n"
	s.Reviews = Approve("mara")
	add(s, evaluate.VerdictFail, "needs 1 more approval from "+prodOwners+" for environments/prod/README.md")

	s = Sample("files directly under environments/ need governance approvals")
	s.Base[".github/CODEOWNERS"] = "/environments/  @example-org/platform-admins\n" + CodeOwners
	s.Head["environments/README.md"] = "How environments work.\n"
	s.Reviews = Approve("pat")
	add(s, evaluate.VerdictFail, "environments/README.md: 1/2 (governance, 1 missing)")

	s = lassoToProd("approvals in warn mode do not block")
	s.Base[".github/promobot.yaml"] = modeSet("approvals", "warn")
	s.Reviews = Approve("mara")
	add(s, evaluate.VerdictPass, "all rules pass (1 warning), 1/2 approvals")

	s = lassoToProd("a broken CODEOWNERS line is reported and skipped")
	s.Base[".github/CODEOWNERS"] = CodeOwners + "!/environments/prod/x.yaml @walt\n"
	s.Reviews = Approve("mara", "rita")
	add(s, evaluate.VerdictPass, "all rules pass (1 warning)", "approvals/codeowners", ".github/CODEOWNERS:10:1")

	return out
}
