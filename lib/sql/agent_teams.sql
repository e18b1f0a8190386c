-- Each agent's team: from the roster, else the team most often on their tickets.
SELECT agent, coalesce(r.team, t.team) AS team
FROM (SELECT agent, team FROM roster) r
FULL JOIN (SELECT agent, mode(team) AS team FROM tickets WHERE team IS NOT NULL GROUP BY agent) t
USING (agent)
