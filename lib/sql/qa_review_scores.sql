-- One row per QA review, scored 0–100 with the rubric in force (qa_criteria): the weighted
-- mean of points given ÷ points over the criteria that apply (N/A: no score, left out). A
-- criterion not in the rubric weighs 1 against its max_score (5 if none). A failed critical
-- criterion (flagged, or 0 points on a critical criterion) sets the review to 0.
WITH r AS (
    SELECT q.*, coalesce(c.weight, 1.0) AS weight,
           coalesce(q.max_score, c.points, 5) AS top,
           coalesce(q.critical_failed, false)
             OR (coalesce(c.critical, false) AND q.score IS NOT NULL AND q.score <= 0) AS failed
    FROM qa_reviews q
    LEFT JOIN qa_criteria c ON c.name_key = lower(regexp_replace(trim(q.criterion), '\s+', ' ', 'g'))
)
SELECT review_id,
       any_value(agent) AS agent,
       any_value(reviewer) AS reviewer,
       any_value(ticket_id) AS ticket_id,
       max(reviewed_at) AS reviewed_at,
       bool_or(failed) AS critical_failed,
       CASE WHEN bool_or(failed) THEN 0.0
            ELSE 100.0 * sum(weight * score / nullif(top, 0)) FILTER (WHERE score IS NOT NULL)
                 / nullif(sum(weight) FILTER (WHERE score IS NOT NULL), 0)
       END AS score_pct
FROM r
GROUP BY review_id
