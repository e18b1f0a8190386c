-- One row per QA review: points earned ÷ points possible (0–100); N/A criteria (no score)
-- are left out; a failed critical criterion sets the review to 0.
SELECT review_id,
       any_value(agent) AS agent,
       any_value(reviewer) AS reviewer,
       any_value(ticket_id) AS ticket_id,
       max(reviewed_at) AS reviewed_at,
       bool_or(coalesce(critical_failed, false)) AS critical_failed,
       CASE WHEN bool_or(coalesce(critical_failed, false)) THEN 0.0
            ELSE 100.0 * sum(score) / nullif(sum(coalesce(max_score, 5)) FILTER (WHERE score IS NOT NULL), 0)
       END AS score_pct
FROM qa_reviews
GROUP BY review_id
