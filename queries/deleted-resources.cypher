// Resources deleted in a time range, with who deleted them, when and from where.
//
// Parameters
//   $from  start of the range, inclusive (ISO 8601 text or a DateTime)
//   $to    end of the range, exclusive
//
// Neo4j Browser:  :params {from: '2024-05-01T00:00:00Z', to: '2024-05-02T00:00:00Z'}
//
// A deletion is an action whose name starts with "delete" or "batchDelete" (deleteServer,
// deleteVolume, batchDeleteSecurityGroupRules, ...) and that succeeded (rating normal or not
// recorded). Failed attempts are left out; find them with the rating in user-activity.cypher.
MATCH (a:Action)-[:APPLIED_ON]->(r:Resource)
WHERE datetime($from) <= a.time < datetime($to)
  AND (toLower(a.name) STARTS WITH 'delete' OR toLower(a.name) STARTS WITH 'batchdelete')
  AND coalesce(a.rating, 'normal') = 'normal'
OPTIONAL MATCH (a)-[:PERFORMED_BY]->(u:User)
OPTIONAL MATCH (a)-[:FROM_IP]->(ip:IpAddress)
OPTIONAL MATCH (r)-[:MEMBER_OF]->(p:Project)
RETURN a.time AS deletedAt,
       r.service AS service,
       r.type AS type,
       r.id AS resourceId,
       r.name AS resourceName,
       a.name AS action,
       u.name AS deletedBy,
       ip.address AS sourceIp,
       p.id AS project
ORDER BY deletedAt DESC, resourceId
