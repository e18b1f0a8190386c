-- Schema version 10: a scheme version says from which day it is in force. A manager saving new
-- weights while discussing October makes them count for October; a past period is scored again
-- under a new version only on purpose (the reason and the date are in the audit log). Versions
-- saved before this have no date: they count from the day they were saved.
ALTER TABLE scheme_versions ADD COLUMN in_force_from DATE;
