// Activity per project and region: volume, failures, incidents and distinct users.
//
// Parameters
//   $from  start of the range, inclusive (ISO 8601 text or a DateTime)
//   $to    end of the range, exclusive
//
// Neo4j Browser:  :params {from: '2024-05-01T00:00:00Z', to: '2024-05-02T00:00:00Z'}
//
// A project with no rows had no traces in the range: either it was quiet, or its exporter
// stopped (compare with the previous range).
MATCH (a:Action)-[:IN_PROJECT]->(p:Project)-[:LOCATED_AT]->(g:Region)
WHERE datetime($from) <= a.time < datetime($to)
OPTIONAL MATCH (a)-[:PERFORMED_BY]->(u:User)
RETURN g.id AS region,
       p.id AS project,
       count(a) AS actions,
       count(CASE WHEN a.rating = 'warning' THEN 1 END) AS warnings,
       count(CASE WHEN a.rating = 'incident' THEN 1 END) AS incidents,
       count(DISTINCT u) AS users,
       min(a.time) AS firstAction,
       max(a.time) AS lastAction
ORDER BY region, project
