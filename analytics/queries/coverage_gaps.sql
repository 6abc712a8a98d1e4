-- Coverage gaps: working-age persons (15 to 64 at the snapshot date) who are alive and in no
-- scheme at all — not in labor insurance, not in national health insurance, not a farmer —
-- by county and age band, with their share of the working-age population.
-- Role: analyst (gold.person_coverage).
-- Run:  lakehouse query --file analytics/queries/coverage_gaps.sql
SELECT
    coalesce(county, '不詳')                                          AS county,
    age_band,
    count(*)                                                          AS persons,
    count(*) FILTER (WHERE NOT in_labor_insurance AND NOT in_nhi AND NOT is_farmer)
                                                                      AS uninsured,
    round(100.0 * count(*) FILTER (WHERE NOT in_labor_insurance AND NOT in_nhi
                                   AND NOT is_farmer) / count(*), 1)  AS uninsured_pct
FROM gold.person_coverage
WHERE NOT is_deceased
  AND age_band IN ('15-19', '20-24', '25-29', '30-34', '35-39', '40-44', '45-49', '50-54',
                   '55-59', '60-64')
GROUP BY coalesce(county, '不詳'), age_band
ORDER BY uninsured DESC, county, age_band
