// All actions CTS rated "incident" (a fault more serious than a failed operation), newest first.
//
// Parameters
//   $from  start of the range, inclusive (ISO 8601 text or a DateTime)
//   $to    end of the range, exclusive
//
// Neo4j Browser:  :params {from: '2024-05-01T00:00:00Z', to: '2024-05-02T00:00:00Z'}
//
// The rating is an indexed property of Action (action_rating), so this starts with an index
// seek whatever the size of the graph.
MATCH (a:Action {rating: 'incident'})
WHERE datetime($from) <= a.time < datetime($to)
OPTIONAL MATCH (a)-[:PERFORMED_BY]->(u:User)
OPTIONAL MATCH (a)-[:APPLIED_ON]->(r:Resource)
OPTIONAL MATCH (a)-[:FROM_IP]->(ip:IpAddress)
RETURN a.time AS time,
       a.service AS service,
       a.name AS action,
       a.code AS code,
       r.key AS resource,
       u.name AS user,
       ip.address AS sourceIp,
       a.message AS message
ORDER BY time DESC, action
