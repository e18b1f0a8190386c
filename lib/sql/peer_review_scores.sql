-- Peer reviews dated by the first day of their period ("2026-05" → 2026-05-01).
SELECT agent, reviewer, score, comment,
       coalesce(try_strptime(period || '-01', '%Y-%m-%d'), try_strptime(period, '%Y-%m-%d')) AS period_start
FROM peer_reviews
