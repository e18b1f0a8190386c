-- Customer comments on tickets with their sentiment (__sentiment is registered by the engine).
SELECT t.*, s.sentiment
FROM tickets t JOIN __sentiment s ON s.comment = t.comment
WHERE t.comment IS NOT NULL
