-- Each agent's team: from the roster, else the team most often on their tickets; between teams
-- on as many tickets, the one on their latest ticket (then by name), so that the same
-- data always gives the same team.
SELECT agent, coalesce(r.team, t.team) AS team
FROM (SELECT agent, team FROM roster) r
FULL JOIN (
    SELECT agent, arg_max(team, struct_pack(n := n, last := last, name := team)) AS team
    FROM (SELECT agent, team, count(*) AS n, max(created_at) AS last
          FROM tickets WHERE team IS NOT NULL GROUP BY agent, team)
    GROUP BY agent
) t
USING (agent)
