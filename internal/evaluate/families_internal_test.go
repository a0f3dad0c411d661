package evaluate

import "testing"

// TestRuleTableChecks requires every family of the table to have a stage
// and the check that stage calls, so that a family added to the table
// without its check fails here rather than by a nil call.
func TestRuleTableChecks(t *testing.T) {
	for _, f := range table {
		switch {
		case f.stage < stagePath || f.stage > stageChange:
			t.Errorf("family %s has no stage", f.Name)
		case f.stage == stageChange && (f.checkChange == nil || f.check != nil):
			t.Errorf("family %s judges the change: it needs checkChange and no check", f.Name)
		case f.stage != stageChange && (f.check == nil || f.checkChange != nil):
			t.Errorf("family %s judges a file: it needs check and no checkChange", f.Name)
		}
	}
}
