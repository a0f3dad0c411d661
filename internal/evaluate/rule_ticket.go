package evaluate

import (
	"fmt"

	"github.com/example-org/promobot/internal/policy"
)

// familyTicket requires a change ticket, matching the environment's
// pattern, where the environment asks for one.
var familyTicket = RuleFamily{
	Name:  policy.FamilyTicket,
	Needs: NeedManifest,
	Rules: []Rule{{ID: "ticket", Pin: true}},
	stage: stageRequirements,
	check: (*evaluation).checkTicket,
}

func (e *evaluation) checkTicket(c *fileCheck) {
	f, env := c.f, c.env
	t := f.head.Manifest.Approval.Ticket
	pattern := ""
	if env.TicketPattern != "" {
		pattern = " matching " + env.TicketPattern
	}
	switch {
	case !env.RequireTicket:
		e.add(f, policy.FamilyTicket, "ticket", StatusSkip, fmt.Sprintf("%s does not require a change ticket", env.Name))
	case t == "":
		e.add(f, policy.FamilyTicket, "ticket", StatusFail, fmt.Sprintf("approval.ticket is missing; %s requires a change ticket%s", env.Name, pattern), "approval")
	case !env.TicketMatches(t):
		e.add(f, policy.FamilyTicket, "ticket", StatusFail, fmt.Sprintf("approval.ticket %q does not match %s", t, env.TicketPattern), "approval", "ticket")
	default:
		e.add(f, policy.FamilyTicket, "ticket", StatusPass, fmt.Sprintf("change ticket %s", t), "approval", "ticket")
	}
}
