-- Insured persons by county and age band at the snapshot date (living persons): in labor
-- insurance, in national health insurance, farmers, and in any of the three.
-- (opendata.insured_by_county_age_sex publishes the monthly labor-insurance counts with small
-- cells suppressed; this is the analysts' unsuppressed view of the latest snapshot.)
-- Role: analyst (gold.person_coverage).
-- Run:  lakehouse query --file analytics/queries/insured_by_county_age.sql --format csv
SELECT
    coalesce(county, '不詳')                                           AS county,
    age_band,
    count(*)                                                           AS persons,
    count(*) FILTER (WHERE in_labor_insurance)                         AS labor_insured,
    count(*) FILTER (WHERE in_nhi)                                     AS nhi_insured,
    count(*) FILTER (WHERE is_farmer)                                  AS farmers,
    count(*) FILTER (WHERE in_labor_insurance OR in_nhi OR is_farmer)  AS insured_any
FROM gold.person_coverage
WHERE NOT is_deceased
GROUP BY coalesce(county, '不詳'), age_band
ORDER BY county, CASE WHEN age_band = '100+' THEN 100
                      ELSE CAST(split_part(age_band, '-', 1) AS INTEGER) END
