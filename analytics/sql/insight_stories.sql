-- Stories a viewer may see: public ones, and board-only ones when $board is true (withdrawn ones never reach the
-- store at all).
SELECT story_id, title, summary, teller, communities, locality, priorities, consent, media, told_on
FROM stories
WHERE consent = 'public' OR (consent = 'board_only' AND $board)
ORDER BY told_on DESC, story_id
