-- Dual enrolment: persons who, at a month end, are both eligible in farmers' health insurance
-- and enrolled in ordinary labor insurance (mutually exclusive by law), per month and county
-- of the household address, with the employers and farmers' associations involved.
-- Role: analyst (gold.dual_enrollment joined to gold.person_coverage on person_key).
-- Run:  lakehouse query --file analytics/queries/dual_enrollment.sql
SELECT
    d.month,
    coalesce(p.county, '不詳')           AS county,
    count(DISTINCT d.person_key)         AS persons,
    count(DISTINCT d.employer_ubn)       AS employers,
    count(DISTINCT d.association_code)   AS associations
FROM gold.dual_enrollment AS d
LEFT JOIN gold.person_coverage AS p ON p.person_key = d.person_key
GROUP BY d.month, coalesce(p.county, '不詳')
ORDER BY d.month DESC, persons DESC, county
