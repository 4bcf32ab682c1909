// Resource timeline: who did what to one resource, when, and from where.
//
// Parameters
//   $resource  the resource's key (<service>/<type>/<id>), id or name, e.g. 'ECS/ecs/srv-1' or 'web-01'
//
// Neo4j Browser:  :param resource => 'web-01'
//
// One row per action, oldest first. `via` is the trace type (ConsoleAction, ApiCall,
// SystemAction); user and sourceIp are null for system actions. A name may match several
// resources (e.g. the same server name in two projects); `resource` tells them apart.
MATCH (r:Resource)
WHERE r.key = $resource OR r.id = $resource OR r.name = $resource
MATCH (a:Action)-[:APPLIED_ON]->(r)
OPTIONAL MATCH (a)-[:PERFORMED_BY]->(u:User)
OPTIONAL MATCH (a)-[:FROM_IP]->(ip:IpAddress)
RETURN a.time AS time,
       r.key AS resource,
       a.name AS action,
       a.rating AS rating,
       a.code AS code,
       u.name AS user,
       u.id AS userId,
       ip.address AS sourceIp,
       a.traceType AS via
ORDER BY time, action
