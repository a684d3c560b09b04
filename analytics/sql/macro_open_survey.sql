-- An open partnership-wide survey: a survey method (`surveys`, config.SURVEY_METHODS), locality 'All' and no
-- community named. Its respondents count one by one in intervals; every other activity counts as one cluster
-- (analytics/design.py).
CREATE MACRO open_survey(method, activity_locality, communities, surveys) AS
    activity_locality = 'All' AND list_contains(surveys, method) AND coalesce(communities, '') = '';
